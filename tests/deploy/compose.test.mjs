// deploy/docker/docker-compose.yml and the haproxy config it mounts: the file
// is valid against the Compose Specification, has the services of the guide,
// and haproxy accepts the config and balances exactly the gateway services.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { assertKnownSettings, need, packageDir, parseYaml, read, repo, run, tool } from "./lib.mjs";

const composeDir = repo("deploy/docker");
const compose = () => parseYaml(read("deploy/docker/docker-compose.yml"));
const gatewayNames = (services) => Object.keys(services).filter((name) => /^gateway-\d+$/.test(name));

test("docker-compose.yml is valid against the Compose Specification schema", () => {
  const Ajv = need("ajv");
  // The Compose Specification's JSON schema, as shipped by dclint.
  const schema = JSON.parse(readFileSync(path.join(packageDir("dclint"), "schemas/compose.schema.json"), "utf8"));
  delete schema.$schema; // draft-07, ajv's default; its https URL is not registered
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  const doc = compose();
  assert.ok(validate(doc), `schema: ${ajv.errorsText(validate.errors)}`);
  // The schema rejects what Compose would reject (so passing means something).
  assert.equal(validate({ services: { web: { image: "x", restart: 5, bogus: true } } }), false);
});

test("compose: Redis with append-only persistence on a named volume", () => {
  const { services, volumes } = compose();
  const redis = services.redis;
  assert.equal(redis.image, "redis:7");
  const command = Array.isArray(redis.command) ? redis.command.join(" ") : redis.command;
  assert.match(command, /--appendonly yes/);
  const mount = redis.volumes.find((v) => String(v).endsWith(":/data"));
  assert.ok(mount, "Redis data on a volume at /data");
  assert.ok(Object.hasOwn(volumes, mount.split(":")[0]), "the Redis volume is a named volume");
  assert.ok(redis.healthcheck, "gateways wait for a healthy Redis");
});

test("compose: three gateways built from deploy/docker/Dockerfile, each its own GATEWAY_ID", () => {
  const { services } = compose();
  const gateways = gatewayNames(services);
  assert.deepEqual(gateways, ["gateway-1", "gateway-2", "gateway-3"]);
  const ids = new Set();
  for (const name of gateways) {
    const service = services[name];
    const context = path.resolve(composeDir, service.build.context);
    assert.equal(context, repo(), `${name}: the build context is the repository root`);
    assert.ok(existsSync(path.join(context, service.build.dockerfile)), `${name}: no ${service.build.dockerfile}`);
    assert.equal(service.build.dockerfile, "deploy/docker/Dockerfile");
    const env = service.environment;
    assert.equal(env.REDIS_URL, "redis://redis:6379", `${name}: REDIS_URL`);
    assert.ok(env.GATEWAY_ID, `${name}: GATEWAY_ID`);
    ids.add(env.GATEWAY_ID);
    assertKnownSettings(Object.keys(env), `docker-compose.yml ${name}`);
    assert.equal(service.depends_on.redis.condition, "service_healthy");
    assert.ok(parseInt(service.stop_grace_period, 10) > 10, `${name}: stop_grace_period above SHUTDOWN_TIMEOUT`);
    assert.equal(service.ports, undefined, `${name}: gateways are reached through haproxy only`);
  }
  assert.equal(ids.size, gateways.length, "every gateway has a distinct GATEWAY_ID");
});

test("compose: haproxy 2.6 publishes 8080 with deploy/docker/haproxy.cfg", () => {
  const { services } = compose();
  const haproxy = services.haproxy;
  assert.equal(haproxy.image, "haproxy:2.6");
  assert.ok(haproxy.ports.map(String).includes("8080:8080"));
  const mount = haproxy.volumes.find((v) => v.includes(":/usr/local/etc/haproxy/haproxy.cfg"));
  assert.ok(mount, "haproxy.cfg mounted where the haproxy image reads it");
  assert.equal(path.resolve(composeDir, mount.split(":")[0]), repo("deploy/docker/haproxy.cfg"));
  for (const name of gatewayNames(services)) assert.ok(haproxy.depends_on.includes(name));
});

test("haproxy -c accepts deploy/docker/haproxy.cfg, which balances the compose gateways on /readyz", () => {
  const haproxy = tool("haproxy", "apt-get install haproxy (it is in scripts/packages.txt)");
  const result = run(haproxy, ["-c", "-f", repo("deploy/docker/haproxy.cfg")]);
  assert.equal(result.status, 0, `haproxy -c failed:\n${result.stdout}${result.stderr}`);
  // Outside Docker the service names do not resolve (init-addr none lets the
  // check pass): that is the only warning allowed.
  const warnings = `${result.stdout}\n${result.stderr}`
    .split("\n")
    .filter((line) => line.includes("[WARNING]") && !/could not resolve address 'gateway-\d+'/.test(line));
  assert.deepEqual(warnings, []);

  const config = read("deploy/docker/haproxy.cfg");
  const servers = [...config.matchAll(/^\s*server\s+\S+\s+([^:\s]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  const { services } = compose();
  assert.deepEqual(
    servers.sort(),
    gatewayNames(services).map((name) => `${name}:8080`),
    "one haproxy server per gateway service, on the gateway's port",
  );
  assert.match(config, /^\s*option httpchk GET \/readyz/m);
  assert.match(config, /^\s*balance leastconn/m);
  assert.match(config, /^\s*timeout tunnel 1h/m, "WebSocket-friendly tunnel timeout");
  assert.match(config, /^\s*bind :8080/m);
});

// deploy/docker/docker-compose.cluster.yml: the same stack on a Redis Cluster.
const clusterCompose = () => parseYaml(read("deploy/docker/docker-compose.cluster.yml"));

test("docker-compose.cluster.yml is valid; six cluster nodes, formed once, three gateways on redis+cluster://", () => {
  const Ajv = need("ajv");
  const schema = JSON.parse(readFileSync(path.join(packageDir("dclint"), "schemas/compose.schema.json"), "utf8"));
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  const doc = clusterCompose();
  assert.ok(validate(doc), `schema: ${ajv.errorsText(validate.errors)}`);
  const { services } = doc;
  const nodes = Object.keys(services).filter((name) => /^redis-\d+$/.test(name));
  assert.equal(nodes.length, 6);
  for (const name of nodes) {
    const command = services[name].command.join(" ");
    assert.match(command, /--cluster-enabled yes/, name);
    assert.match(command, /--appendonly yes/, name);
    assert.match(command, /--cluster-preferred-endpoint-type hostname/, name);
    assert.ok(services[name].volumes.some((v) => v.endsWith(":/data")), `${name} keeps /data on a volume`);
    assert.equal(services[name].hostname, name, `${name} announces its service name`);
  }
  const create = services["redis-cluster-create"];
  assert.match(create.command.join(" "), /redis-cli --cluster create .*--cluster-replicas 1/);
  for (const name of nodes) assert.equal(create.depends_on[name].condition, "service_healthy");
  assert.deepEqual(gatewayNames(services), ["gateway-1", "gateway-2", "gateway-3"]);
  for (const name of gatewayNames(services)) {
    const env = services[name].environment;
    assertKnownSettings(Object.keys(env), `docker-compose.cluster.yml ${name}`);
    const seeds = /^redis\+cluster:\/\/(.+)$/.exec(env.REDIS_URL)?.[1].split(",") ?? [];
    assert.ok(seeds.length > 0, `${name}: REDIS_URL ${env.REDIS_URL}`);
    for (const seed of seeds) assert.ok(nodes.includes(seed.split(":")[0]), `${name}: seed ${seed} is a node`);
    assert.equal(services[name].depends_on["redis-cluster-create"].condition, "service_completed_successfully");
  }
  // The same haproxy.cfg balances the same gateway names.
  assert.ok(services.haproxy.volumes.some((v) => v.startsWith("./haproxy.cfg:")));
});
