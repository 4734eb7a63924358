// CDK entry point (cdk.json "app"). `npx cdk synth` synthesizes every environment of cdk.json;
// `npx cdk deploy -c env=prod --all` deploys one. Configuration errors name the field.
import { ConfigError } from './config.ts';
import { buildApp } from './build-app.ts';

try {
  const { app } = buildApp();
  app.synth();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
