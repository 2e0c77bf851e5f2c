"""A device's LittleFS image, made with littlefs-python in the board's geometry.

What tool-mklittlefs does for `pio run -t buildfs`, for one device's files: an image
of the whole filesystem partition (unused blocks erased, 0xFF), LittleFS on-disk
version 2.0 and name_max 32 (an image with littlefs-python's defaults does not mount
on the ESP8266 core), read/prog size = the page, the board's block size. The files go
in sorted by name, so the same files give the same bytes on every run and machine.

littlefs-python is needed only here (the PlatformIO build uses the platform's own
mklittlefs): it is imported when an image is made, and its absence is one line that
says what to install.
"""

from ..errors import InputError

LITTLEFS_REQUIREMENT = "littlefs-python>=0.12"
IMAGE_NAME = "littlefs.bin"


def require_littlefs():
    """The littlefs module, or InputError with the pip command to run."""
    try:
        import littlefs
    except ImportError:
        import sys
        raise InputError(f"littlefs-python is needed for images: run `{sys.executable} -m pip install "
                         f"'{LITTLEFS_REQUIREMENT}'`") from None
    return littlefs


def _filesystem(geometry, flash, mount):
    """A LittleFS over `flash` (a bytearray of the partition) in the board's geometry."""
    littlefs = require_littlefs()

    # littlefs-python's own context fills its buffer through a list of ints (about 10 ms for
    # 1 MB, more than the rest of an image): the same context over a buffer made directly.
    class Flash(littlefs.UserContext):
        def __init__(self, buffer):  # no super().__init__: it would allocate that list
            self.buffer = buffer
            self.in_size = len(buffer)

    return littlefs, littlefs.LittleFS(context=Flash(flash), block_size=geometry.block_size,
                                       block_count=geometry.block_count, read_size=geometry.page_size,
                                       prog_size=geometry.page_size, name_max=geometry.name_max,
                                       disk_version=geometry.disk_version, mount=mount)


def build(files, geometry):
    """Bytes of an image holding `files` ({name: bytes}, names at the root) in `geometry`.

    Raises InputError when a name is longer than the board reads or the files do not fit.
    """
    for name in files:
        if not name or "/" in name or len(name.encode()) > geometry.name_max:
            raise InputError(f"{name}: a file name on the board's LittleFS is 1 to {geometry.name_max} bytes "
                             "with no folder: shorten it")
    erased = bytearray(b"\xff") * geometry.size  # erased flash reads 0xFF, as mklittlefs leaves it
    littlefs, fs = _filesystem(geometry, erased, mount=True)
    try:
        for name in sorted(files):
            with fs.open(name, "wb") as handle:
                handle.write(files[name])
    except littlefs.LittleFSError as error:
        total = sum(len(data) for data in files.values())
        raise InputError(f"the files ({total:,} bytes) do not fit a {geometry.size:,}-byte LittleFS of "
                         f"{geometry.block_size}-byte blocks ({error}): use a board layout with a larger "
                         "filesystem") from None
    return bytes(fs.context.buffer)


def read(image, geometry):
    """{name: bytes} of every file in `image`, mounted as the board mounts it.

    Raises InputError when the size is not the board's filesystem size or it does not mount.
    """
    if len(image) != geometry.size:
        raise InputError(f"the image has {len(image):,} bytes, the {geometry.target} filesystem "
                         f"{geometry.size:,} ({geometry.source})")
    littlefs, fs = _filesystem(geometry, bytearray(image), mount=False)
    try:
        fs.mount()
        files = {}
        for root, _dirs, names in fs.walk("/"):
            for name in names:
                path = (root.rstrip("/") + "/" + name).lstrip("/")
                with fs.open(path, "rb") as handle:
                    files[path] = handle.read()
    except littlefs.LittleFSError as error:
        raise InputError(f"the image does not mount as LittleFS with block {geometry.block_size}, page "
                         f"{geometry.page_size}, name_max {geometry.name_max} ({error})") from None
    return files
