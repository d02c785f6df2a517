// The real gateway accepts the settings of every deployment: each set of
// environment variables (Kubernetes ConfigMaps and dev Secret, the Compose
// services, Heroku's app.json) starts chat-gateway without a settings error
// (a bad value stops it at start with exit status 2 and names the setting).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import {
  freePort,
  gatewayBinary,
  parseYaml,
  parseYamlDocuments,
  read,
  repo,
  run,
  startProcess,
  stopProcess,
  waitFor,
} from "./lib.mjs";

function kustomizeEnv(overlay) {
  const kubectl = [process.env.KUBECTL, "/usr/bin/kubectl", "/usr/local/bin/kubectl"].find(
    (candidate) => candidate && run(candidate, ["version", "--client"]).status === 0,
  );
  assert.ok(kubectl, "kubectl not found: needed to render deploy/k8s");
  const result = run(kubectl, ["kustomize", repo("deploy/k8s/overlays", overlay)]);
  assert.equal(result.status, 0, result.stderr);
  const objects = parseYamlDocuments(result.stdout);
  const env = { ...objects.find((o) => o.kind === "ConfigMap").data };
  for (const secret of objects.filter((o) => o.kind === "Secret")) {
    for (const [key, value] of Object.entries(secret.data ?? {})) env[key] = Buffer.from(value, "base64").toString();
  }
  return env;
}

function deploymentEnvironments() {
  const sets = { "k8s dev": kustomizeEnv("dev"), "k8s prod": kustomizeEnv("prod") };
  const compose = parseYaml(read("deploy/docker/docker-compose.yml"));
  // The Compose gateways differ only in GATEWAY_ID (compose.test.mjs): one will do.
  sets.compose = { ...compose.services["gateway-1"].environment };
  const app = JSON.parse(read("deploy/heroku/app.json"));
  const heroku = {};
  for (const [name, spec] of Object.entries(app.env)) {
    if (spec.value !== undefined) heroku[name] = spec.value;
    // What Heroku's "secret" generator makes: 64 hex characters.
    if (spec.generator === "secret") heroku[name] = "0123456789abcdef".repeat(4);
  }
  sets.heroku = heroku;
  return sets;
}

test("live: chat-gateway starts with the settings of every deployment", async (t) => {
  const binary = gatewayBinary();
  const work = mkdtempSync(path.join(os.tmpdir(), "chat-deploy-settings-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // All at once: each on its own port, each its own process.
  const runs = Object.entries(deploymentEnvironments()).map(async ([name, values]) => {
    // Only the address changes: a free port, and a Redis that is not there
    // (the gateway starts and keeps retrying; only the settings matter here).
    const closed = await freePort();
    const env = { ...process.env, ...values, PORT: "0", REDIS_URL: `redis://127.0.0.1:${closed}`, STATIC_DIR: repo("frontend") };
    const gateway = startProcess(`chat-gateway with the ${name} settings`, binary, [], { cwd: work, env });
    try {
      await waitFor(`${name}: the gateway to listen`, () => /event=listening/.test(gateway.output), 15000, gateway);
    } finally {
      await stopProcess(gateway);
    }
    assert.equal(gateway.exited.code, 0, `${name}: exit ${JSON.stringify(gateway.exited)}\n${gateway.output}`);
  });
  await Promise.all(runs);
});
