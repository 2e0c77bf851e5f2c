"""Just enough of platformio.ini for the command line, which runs without PlatformIO.

The extra script gets the same values from PlatformIO itself.
"""

import configparser
from pathlib import Path

from ..identity import targets


def read_env(project_dir, env_name=None):
    """(env name, {option: value}) for `env_name` or the first of default_envs; ({}) without an ini."""
    path = Path(project_dir) / "platformio.ini"
    if not path.is_file():
        return None, {}
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None, {}
    if not env_name:
        defaults = parser.get("platformio", "default_envs", fallback="")
        env_name = next((e.strip() for e in defaults.replace("\n", ",").split(",") if e.strip()), None)
    if not env_name:
        env_name = next((s[4:] for s in parser.sections() if s.startswith("env:")), None)
    values = dict(parser["env"]) if parser.has_section("env") else {}
    if env_name and parser.has_section(f"env:{env_name}"):
        values.update(parser[f"env:{env_name}"])
    return env_name, values


def target_from_platform(platform_value):
    """esp8266 / esp32 from a `platform =` value: a name, owner/name@version, a URL or a path."""
    text = (platform_value or "").lower()
    for platform, target in targets.PLATFORM_TARGETS.items():
        if platform in text:
            return target
    return None
