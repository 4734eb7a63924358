// Real registry clients from Debian's packages, run in isolation for e2e tests and benchmarks; one
// module per client under clients/, re-exported here:
// - clients/process.ts: run(), one command with a hard timeout (the whole process group is killed
//   on expiry), and the exit/signal hook that cleans up whatever is still running;
// - clients/skopeo.ts: createSkopeo(), skopeo with its own blob-info cache, policy, registries.conf
//   and temp dir;
// - clients/containerd.ts: startContainerd(), a private containerd (own root, state, sockets; CRI
//   plugin disabled) + ctr;
// - clients/dockerd.ts: startDockerd(), a private dockerd (own data/exec root, socket, vfs, no
//   networking) + docker CLI;
// - clients/daemon.ts: how those daemons are spawned, awaited and stopped (stop() kills what is
//   still running, lazily unmounts anything left under the temp dir and removes the dir);
// - clients/tools.ts: tool discovery (Debian's package dirs before PATH) and the skip-or-fail-in-CI
//   policy of toolGate()/startOrSkip(); E2E_HIDE_TOOLS=skopeo,dockerd makes tools look missing.
// - clients/podman.ts: createPodman(), podman with its own storage (vfs), run root, events log and config;
// - clients/buildah.ts: createBuildah(), buildah with the same private state (clients/containers-storage.ts);
// Nothing here touches the machine's own daemons or caches.
export { isCI, findTool, Unavailable, toolGate, startOrSkip, type ToolGate } from './clients/tools.ts';
export { run, CommandError, type RunOptions, type RunResult } from './clients/process.ts';
export { createSkopeo, type Skopeo } from './clients/skopeo.ts';
export { startContainerd, type Containerd } from './clients/containerd.ts';
export { startDockerd, type Dockerd } from './clients/dockerd.ts';
export { createPodman, type Podman } from './clients/podman.ts';
export { createBuildah, type Buildah } from './clients/buildah.ts';
