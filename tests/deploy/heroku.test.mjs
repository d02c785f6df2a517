// deploy/heroku: Procfile, heroku.yml and app.json agree with each other, with
// the image, and with the gateway's settings.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import test from "node:test";
import { assertKnownSettings, parseYaml, read, repo } from "./lib.mjs";

const procfile = () => {
  const entries = new Map();
  for (const line of read("deploy/heroku/Procfile").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const match = /^([a-z][a-z0-9_-]*):\s*(.+)$/.exec(line);
    assert.ok(match, `Procfile line is not 'type: command': ${line}`);
    entries.set(match[1], match[2].trim());
  }
  return entries;
};
const herokuYml = () => parseYaml(read("deploy/heroku/heroku.yml"));
const appJson = () => JSON.parse(read("deploy/heroku/app.json"));

test("Procfile and heroku.yml run the image's gateway on $PORT", () => {
  const web = procfile().get("web");
  assert.equal(web, "chat-gateway --port $PORT");
  assert.equal(herokuYml().run.web, web, "heroku.yml run.web = Procfile web");
  // chat-gateway is the image's CMD, on PATH.
  assert.match(read("deploy/docker/Dockerfile"), /^COPY --from=build \S+ \/usr\/local\/bin\/chat-gateway$/m);
});

test("heroku.yml builds the image's Dockerfile (copied to the root, where Heroku reads both)", () => {
  const yml = herokuYml();
  assert.deepEqual(Object.keys(yml.build.docker), ["web"]);
  assert.equal(yml.build.docker.web, "Dockerfile");
  // Root copies, if a deploy commit (or the repository) has them, must be
  // the files of deploy/: nothing may drift.
  if (existsSync(repo("heroku.yml"))) assert.equal(read("heroku.yml"), read("deploy/heroku/heroku.yml"));
  if (existsSync(repo("Dockerfile"))) assert.equal(read("Dockerfile"), read("deploy/docker/Dockerfile"));
  const guide = read("deploy/README.md");
  assert.ok(guide.includes("cp deploy/heroku/heroku.yml heroku.yml"), "the guide copies heroku.yml to the root");
  assert.ok(guide.includes("cp deploy/docker/Dockerfile Dockerfile"), "the guide copies the Dockerfile to the root");
  assert.equal(yml.setup.addons[0].plan.split(":")[0], "heroku-redis");
  assertKnownSettings(Object.keys(yml.setup.config), "heroku.yml setup.config");
});

test("app.json: container stack, two web dynos, Heroku Redis, described config vars", () => {
  const app = appJson();
  assert.equal(app.stack, "container");
  assert.equal(app.formation.web.quantity, 2);
  assert.ok(app.addons.some((addon) => (addon.plan ?? addon).split(":")[0] === "heroku-redis"));
  const env = app.env;
  assertKnownSettings(Object.keys(env), "app.json env");
  for (const [name, spec] of Object.entries(env)) {
    assert.ok(spec.description && spec.description.length > 20, `${name} needs a description`);
  }
  assert.equal(env.API_KEY.generator, "secret");
  assert.equal(env.AUTH_SECRET.required, false);
  assert.ok(!Object.hasOwn(env.AUTH_SECRET, "value"), "AUTH_SECRET has no committed value");
  assert.equal(env.ALLOWED_ORIGINS.required, false);
  assert.equal(env.REDIS_TLS_VERIFY.value, "none");
  assert.ok(["debug", "info", "warn", "error"].includes(env.LOG_LEVEL.value));
  assert.ok(!Object.hasOwn(env, "REDIS_URL"), "Heroku Redis sets REDIS_URL itself");
  assert.ok(!Object.hasOwn(env, "PORT"), "Heroku sets PORT itself");
  // heroku.yml's setup sets the same values.
  for (const [name, value] of Object.entries(herokuYml().setup.config)) {
    assert.equal(String(value), env[name]?.value, `heroku.yml setup.config.${name} = app.json env.${name}.value`);
  }
});
