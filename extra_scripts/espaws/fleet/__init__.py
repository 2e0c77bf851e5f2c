"""The fleet: one LittleFS image per device, a manifest as the record, flashing with esptool.

Plain modules, no SCons: geometry (where the filesystem sits on each board), image
(the LittleFS bytes), manifest (OUT/manifest.json), step (what `batch --image` does
per device) and flash (the `flash` verb).
"""
