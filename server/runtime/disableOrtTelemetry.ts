/**
 * Imported (for its effect) before 'onnxruntime-node' everywhere it is loaded.
 *
 * Why: onnxruntime 1.29+ ships 1DS telemetry on Linux and macOS too (microsoft/onnxruntime#27379):
 * the first session makes it resolve and upload to mobile.events.data.microsoft.com and keep a
 * device id and an event cache under ~/.cache/Microsoft/DeveloperTools/.onnxruntime. An appliance
 * that promises all data stays on the box must not do that (test/security/noOutboundConnections
 * catches it with strace). ORT reads the variable once, when it initializes, so it must be in the
 * process environment before the first session; setting it here reaches the native getenv (Node's
 * process.env setter calls setenv on the main thread), worker threads (they start with a copy of
 * it and read the same process environment) and child processes. Set unconditionally: an
 * inherited ORT_DISABLE_TELEMETRY=0 must not turn it back on. Windows' ETW provider is governed by
 * the OS's diagnostic-data settings, not by this variable.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';
