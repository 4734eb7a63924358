// The ingest service's own settings (besides the AWS runtime's, functions/aws/config.ts); names and
// defaults as functions/aws/env-contract.ts lists them.
import { choiceSetting, intSetting, MAX_TIMER_SECONDS, textSetting, type Env } from '../../config/env-settings.ts';

export interface IngestSettings {
  host: string;
  port: number;
  idleTimeoutSeconds: number;
  /** Serve the counts of this process's AWS calls on /healthz/calls (tests and benches only). */
  callCounts: boolean;
}

export function readIngestSettings(env: Env): IngestSettings {
  return {
    host: textSetting(env, 'HOST', '0.0.0.0'),
    port: intSetting(env, 'PORT', 8080, 0, 65535),
    idleTimeoutSeconds: intSetting(env, 'REGISTRY_IDLE_TIMEOUT_SECONDS', 300, 0, MAX_TIMER_SECONDS),
    callCounts: choiceSetting(env, 'REGISTRY_CALL_COUNTS', ['on', 'off'], 'off') === 'on',
  };
}
