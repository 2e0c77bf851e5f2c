"""Every option of the plugin, in one place.

Each option is read from the env's section in platformio.ini (`custom_aws_iot_*`),
else from the environment variable, else its default. The command line's flags
win over both.

| platformio.ini              | environment          | default            | meaning |
|-----------------------------|----------------------|--------------------|---------|
| custom_aws_iot_certs_dir    | AWS_IOT_CERTS_DIR    | certs              | folder with the PEM files (top level only) |
| custom_aws_iot_data_dir     | AWS_IOT_DATA_DIR     | the project's data | where the board's files are written (envs may share it: each image holds only its own env's files; a .gitignore there keeps them out of git) |
| custom_aws_iot_target       | AWS_IOT_TARGET       | from the platform  | esp8266 (DER for BearSSL) or esp32 (PEM for mbedTLS) |
| custom_aws_iot_key_format   | AWS_IOT_KEY_FORMAT   | pkcs8              | private key encoding: pkcs8, or traditional (PKCS#1 RSA / SEC1 EC) |
| custom_aws_iot_dev_key_type | AWS_IOT_DEV_KEY_TYPE | ec                 | key type of development certificates: ec (P-256) or rsa (2048) |
| custom_aws_iot_fleet_devices | AWS_IOT_FLEET_DEVICES | devices          | `iot-fleet-images`: folder with one subfolder of PEM files per device |
| custom_aws_iot_fleet_out    | AWS_IOT_FLEET_OUT    | fleet              | `iot-fleet-images`: OUT folder of the images and manifest.json (docs/fleet.md) |
| custom_aws_iot_spiffs       | AWS_IOT_SPIFFS       | no                 | yes: my own firmware mounts SPIFFS, so buildfs / uploadfs may pack a SPIFFS image (the device client mounts LittleFS) |
| custom_aws_iot_check_aws    | AWS_IOT_CHECK_AWS    | no                 | yes: the iot-check target also asks AWS (check --aws) |

Secrets are never options: WIFI_SSID, WIFI_PASSWORD, AWS_IOT_ENDPOINT,
AWS_IOT_THING_NAME, NTP_SERVER and AWS_IOT_KEY_PASSPHRASE come from the
environment or the project's .env only (see secrets.py).
"""

from typing import NamedTuple

NAMES = ("certs_dir", "data_dir", "target", "key_format", "dev_key_type", "spiffs", "fleet_devices", "fleet_out",
         "check_aws")
DEFAULTS = {"certs_dir": "certs", "data_dir": "", "target": "", "key_format": "pkcs8", "dev_key_type": "ec",
            "spiffs": "no", "fleet_devices": "devices", "fleet_out": "fleet", "check_aws": "no"}
YES, NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")
DEV_KEY_TYPES = ("ec", "rsa")
DEV_CERTS_DIR = "dev-certs"


def ini_name(name):
    return f"custom_aws_iot_{name}"


def env_name(name):
    return f"AWS_IOT_{name.upper()}"


class Options(NamedTuple):  # a NamedTuple: a frozen dataclass costs a millisecond to define, on every build
    certs_dir: str
    data_dir: str
    target: str
    key_format: str
    dev_key_type: str
    spiffs: str = "no"
    fleet_devices: str = DEFAULTS["fleet_devices"]
    fleet_out: str = DEFAULTS["fleet_out"]
    check_aws: str = DEFAULTS["check_aws"]


def resolve(ini_get, environ, overrides=None):
    """Options from `ini_get(ini_name) -> str or ""`, then `environ`, then defaults."""
    overrides = overrides or {}
    values = {}
    for name in NAMES:
        value = overrides.get(name) or ini_get(ini_name(name)) or environ.get(env_name(name)) or DEFAULTS[name]
        values[name] = value.strip()
    return Options(**values)


def _flag(opts, name, yes_means):
    """A yes/no option as a bool; ValueError with a one-line reason when it is neither."""
    value = getattr(opts, name)
    if value.lower() not in YES + NO:
        raise ValueError(f"{ini_name(name)} = {value}: use yes ({yes_means}) or no")
    return value.lower() in YES


def spiffs_ok(opts):
    return _flag(opts, "spiffs", "your own firmware mounts SPIFFS")


def check_aws(opts):
    return _flag(opts, "check_aws", "iot-check also asks AWS")
