// Portable core of the AWS IoT device client. No Arduino header: builds and runs on the
// host (test/host) as well as on the boards.
#pragma once

#include "aws_iot_backoff.h"
#include "aws_iot_client_id.h"
#include "aws_iot_clock.h"
#include "aws_iot_config.h"
#include "aws_iot_connection.h"
#include "aws_iot_describe.h"
#include "aws_iot_diagnosis.h"
#include "aws_iot_files.h"
#include "aws_iot_filter.h"
#include "aws_iot_mqtt.h"
#include "aws_iot_runtime.h"
#include "aws_iot_shadow.h"
#include "aws_iot_tls.h"
#include "aws_iot_topics.h"
