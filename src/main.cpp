// The template's application: telemetry every minute, commands from the cloud.
//
// AwsIotDevice (lib/AwsIotDevice) does WiFi, clock, TLS identity and MQTT, and says on
// the serial port why it is not connected when it is not. Settings come from secrets.h,
// which the plugin generates from WIFI_SSID, WIFI_PASSWORD, AWS_IOT_ENDPOINT (and the
// optional AWS_IOT_THING_NAME, NTP_SERVER). Write your application here.
#include <Arduino.h>
#include <AwsIotDevice.h>
#include <time.h>

#ifndef AWS_IOT_TELEMETRY_MS
#define AWS_IOT_TELEMETRY_MS 60000
#endif

namespace {

constexpr uint32_t kTelemetryIntervalMs = AWS_IOT_TELEMETRY_MS;

AwsIotDevice device;
uint32_t last_telemetry_at = 0;
uint32_t telemetry_seq = 0;
bool telemetry_requested = false;

void publish_telemetry() {
  char payload[384];  // room for a 128-byte thing name and every number at its longest
  // max_block: the largest free heap block; when it nears the ~22 KB a TLS handshake
  // needs, fragmentation is coming (the library restarts after repeated failures).
  snprintf(payload, sizeof payload,
           "{\"thing\":\"%s\",\"seq\":%lu,\"session\":%lu,\"uptime_s\":%llu,\"time\":%lld,"
           "\"heap\":%lu,\"max_block\":%lu,\"rssi\":%d}",
           device.thingName(), static_cast<unsigned long>(++telemetry_seq),
           static_cast<unsigned long>(device.sessions()),
           static_cast<unsigned long long>(device.uptimeMs() / 1000u), static_cast<long long>(time(nullptr)),
           static_cast<unsigned long>(ESP.getFreeHeap()), static_cast<unsigned long>(device.maxFreeBlock()),
           static_cast<int>(WiFi.RSSI()));
  if (device.publish(device.telemetryTopic(), payload)) {
    Serial.printf("[app] telemetry -> %s %s\n", device.telemetryTopic(), payload);
  }
}

// devices/<thing>/commands: the text "telemetry" asks for a telemetry message now.
void on_command(const char* topic, const uint8_t* payload, size_t length) {
  Serial.printf("[app] command <- %s (%u bytes)\n", topic, static_cast<unsigned>(length));
  if (length == 9 && memcmp(payload, "telemetry", 9) == 0) telemetry_requested = true;
}

void on_connected() { telemetry_requested = true; }  // first telemetry right away

}  // namespace

void setup() {
  Serial.begin(115200);
  device.onConnected(on_connected);
  if (device.begin()) device.subscribe(device.commandsTopic(), on_command);
}

void loop() {
  device.loop();
  if (!device.connected()) return;
  const uint32_t now = millis();
  if (telemetry_requested || static_cast<uint32_t>(now - last_telemetry_at) >= kTelemetryIntervalMs) {
    telemetry_requested = false;
    last_telemetry_at = now;
    publish_telemetry();
  }
}
