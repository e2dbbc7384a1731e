// Package cloudsim is a simulated Huawei Cloud: DMS for RocketMQ and
// RabbitMQ, ROMA Connect and CloudDC, served on one http.Handler and
// wire-compatible with the official Go SDK
// (github.com/huaweicloud/huaweicloud-sdk-go-v3) for every operation of the
// contract in cloud-api.md. It is decom's embedded default cloud, the test
// double for everything that talks to the cloud, and the standalone
// "web sim" command.
//
// # Cloud API
//
// All four services share one base URL; point every SDK client at it with
// WithEndpoints([]string{"http://127.0.0.1:PORT"}) and a credential that
// carries the project ID (never WithRegion). GET /v2/{project}/instances is
// the DMS list when it has an engine query parameter and the ROMA instance
// list otherwise; the other paths do not collide. Requests are authenticated
// by AK/SK signature (SDK-HMAC-SHA256, X-Sdk-Date within 15 minutes of the
// wall clock, whatever Options.Now says) or by X-Auth-Token, and the path
// project must be one of the credential's projects (401 APIGW.0301, 403
// APIGW.0302). Every answer carries X-Request-Id; errors are
// {"error_code", "error_msg", "request_id"}.
//
// Lifecycles are computed from timestamps when a resource is read, so the
// simulator runs no goroutines and an injected clock (Options.Now) drives it
// deterministically: a deleted DMS instance is DELETING for
// dms_delete_delay_ms and then gone (404); a deleted CloudDC instance is
// shutting-down for clouddc_delete_delay_ms, then terminated (or error when
// the delete fails) and answers 404 after terminated_retention_ms; a ROMA
// asset job deletes one asset every roma_asset_ms, its progress_percent
// rising from 0 to 1, and ends SUCCEEDED or FAILED with one reason per
// asset that could not be deleted. A user may run one asset job at a time
// (400 ROMA.10012), be it a delete, an export or an import. With a
// project's recycle policy on, a DMS delete that is not forced ends in the
// recycle bin until it is restored or auto_delete_time passes. An export
// job's archive can be downloaded once and imported by any simulator.
//
// # Control API
//
// Under /_sim/, JSON, no credentials, not counted in the stats:
//
//	POST /_sim/reset      {"fleet":"demo"|"empty"} (default demo) → 200 {"fleet","resources"}
//	                      clears resources, jobs, rate-limit buckets and stats; keeps the knobs
//	POST /_sim/resources  {"service","kind","project_id","name","status","instance_id","charging_mode",
//	                       "tags","enterprise_project_id"} → 201 {"id"}
//	GET  /_sim/resources  → {"resources":[{"service","kind","project_id","id","name","status","parent",
//	                       "tags","enterprise_project_id","in_recycle_bin"}]}
//	PATCH /_sim/resources/{id} any of {"status","tags","enterprise_project_id"} → 200 the resource; 404; 400
//	PUT  /_sim/recycle    {"service","project_id","retention_days","default_use_recycle"} → 200 the policy
//	PUT  /_sim/faults     knobs (omitted ones keep their value) → 200 with the knobs in force; bad values 400
//	GET  /_sim/faults     → the knobs in force
//	PUT  /_sim/deny       {"ak":"AK" or "" (every identity),"actions":[...]} → 200 {"deny":[{"ak","actions"}]}
//	GET  /_sim/deny       → the denials in force
//	GET  /_sim/stats      → {"total","by_operation","by_status","by_operation_status","deletes","delete_calls"}
//
// service is rocketmq, rabbitmq, roma or clouddc; kind is instance, or app
// or task (ROMA, with instance_id). status is written as the cloud writes it
// (RUNNING, CREATEFAILED, running, stopped; "0"/"1" for tasks) and defaults
// to the running state. deletes lists every accepted delete of one
// resource, so tests can prove there were no duplicate or unplanned
// deletes; delete_calls lists every delete call with its X-Request-Id. A
// denied action (Actions, ActionOf) answers 403 with the service's code and
// "Policy doesn't allow <action> to be performed." and changes nothing.
// The fault knobs are the JSON fields of Faults; DefaultFaults gives the
// defaults of the sim command.
//
// # Identity
//
// Options.Credentials nil means DemoCredentials: DemoAK/DemoSK and DemoToken
// for DemoUser over both DemoProjects ("prod" and "staging"). The demo fleet
// is spread over the credentials' projects and is the same for the same
// Options.Seed.
package cloudsim
