// Device Shadow with AwsIotDevice (ESP8266 and ESP32): the LED follows the shadow.
//
// The thing's classic shadow holds {"state":{"desired":{"led":true},"reported":{...}}}.
// Set "desired" from the AWS IoT console (Things -> <thing> -> Device Shadows) or an app;
// the device switches the LED and reports back what it did:
//   at connect: publish "" to .../shadow/get; the document arrives on .../get/accepted and
//               its "delta" (desired that differs from reported) is applied;
//   later:      changes of desired arrive on .../shadow/update/delta;
//   after each: {"state":{"reported":{"led":...}}} to .../shadow/update.
// The policy must allow iot:Publish on $aws/things/<thing>/shadow/get and .../update,
// iot:Subscribe and iot:Receive on .../get/accepted and .../update/delta.
//
// The device's MQTT buffer holds shadow documents up to 8 KB (Settings::mqttBufferBytes).
// This example reads one boolean with a few lines of text search; for richer documents use
// a JSON library such as ArduinoJson.
#include <Arduino.h>
#include <AwsIotDevice.h>

AwsIotDevice device;

const uint8_t kLedPin = 2;  // the LED of NodeMCU and ESP32 DevKit boards
bool ledOn = false;
bool reportDue = false;

// The first occurrence of `text` in payload[0, length), or nullptr.
const uint8_t* find(const uint8_t* payload, size_t length, const uint8_t* from, const char* text) {
  const size_t n = strlen(text);
  for (const uint8_t* p = from; p + n <= payload + length; ++p) {
    if (memcmp(p, text, n) == 0) return p;
  }
  return nullptr;
}

// Reads "led":true / "led":false at or after `from`; false when absent.
bool readLed(const uint8_t* payload, size_t length, const uint8_t* from, bool* on) {
  const uint8_t* at = find(payload, length, from, "\"led\":");
  if (at == nullptr) return false;
  at += 6;
  const size_t left = static_cast<size_t>(payload + length - at);
  if (left >= 4 && memcmp(at, "true", 4) == 0) *on = true;
  else if (left >= 5 && memcmp(at, "false", 5) == 0) *on = false;
  else return false;  // e.g. the metadata's "led":{"timestamp":...}
  return true;
}

void setLed(bool on) {
  ledOn = on;
  digitalWrite(kLedPin, on ? HIGH : LOW);
  Serial.printf("LED %s\n", on ? "on" : "off");
  reportDue = true;
}

// update/delta: {"version":7,"timestamp":...,"state":{"led":true},"metadata":{...}}
void onDelta(const char*, const uint8_t* payload, size_t length) {
  bool on;
  const uint8_t* state = find(payload, length, payload, "\"state\":");
  if (state != nullptr && readLed(payload, length, state, &on)) setLed(on);
}

// get/accepted: {"state":{"desired":{...},"reported":{...},"delta":{"led":true}},...}
void onDocument(const char*, const uint8_t* payload, size_t length) {
  bool on;
  const uint8_t* delta = find(payload, length, payload, "\"delta\":");
  if (delta != nullptr && readLed(payload, length, delta, &on)) {
    setLed(on);
  } else {
    reportDue = true;  // nothing desired differs: make sure reported matches the LED
  }
}

void onConnected() {
  device.publish(device.shadowTopic(awsiot::ShadowTopic::kGet).c_str(), "");
}

void reportState() {
  char document[48];
  snprintf(document, sizeof document, "{\"state\":{\"reported\":{\"led\":%s}}}",
           ledOn ? "true" : "false");
  if (device.publish(device.shadowTopic(awsiot::ShadowTopic::kUpdate).c_str(), document)) {
    Serial.printf("reported %s\n", document);
    reportDue = false;
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(kLedPin, OUTPUT);
  digitalWrite(kLedPin, LOW);
  device.onConnected(onConnected);
  if (!device.begin()) return;  // the reason is on the serial port and in lastFailure()
  device.subscribe(device.shadowTopic(awsiot::ShadowTopic::kUpdateDelta).c_str(), onDelta);
  device.subscribe(device.shadowTopic(awsiot::ShadowTopic::kGetAccepted).c_str(), onDocument);
}

void loop() {
  device.loop();
  if (reportDue && device.connected()) reportState();
}
