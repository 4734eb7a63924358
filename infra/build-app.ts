// Builds the CDK app: every environment of cdk.json (or the one named by `-c env=<name>`), with
// cdk-nag's AwsSolutions checks registered as a validation plugin. Shared by infra/app.ts and
// the tests, so both check exactly the same app.
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENVIRONMENTS_CONTEXT_KEY, parseEnvironments } from './config.ts';
import { addRegistry } from './registry.ts';
import type { RegistryStacks } from './registry.ts';

export interface BuiltApp {
  readonly app: App;
  readonly registries: RegistryStacks[];
}

export function buildApp(props: AppProps = {}, baseDir = process.cwd()): BuiltApp {
  const app = new App(props);
  const selected = app.node.tryGetContext('env') as string | undefined;
  const configs = parseEnvironments(app.node.tryGetContext(ENVIRONMENTS_CONTEXT_KEY), selected, baseDir);
  const registries = configs.map((config) => addRegistry(app, config));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, registries };
}
