"""Where values come from: platformio.ini options, the environment and .env."""
