// deploy/k8s: each overlay renders with `kubectl kustomize`, every rendered
// object is valid against the Kubernetes API schemas (offline, strict: unknown
// fields are errors, as `kubectl apply --validate=strict` makes them), and the
// manifests agree with the gateway: probe paths and port, drain timing,
// settings names, non-root user of the image.
//
// Schemas: the npm package kubernetes-models ships, for every built-in kind,
// the validator that ajv compiled from the Kubernetes OpenAPI schema. It checks
// types, enums, formats and required fields but ignores unknown fields, so the
// validator runs on a Proxy that records which fields it looked at: a field of
// an object that the schema never reads is one the schema does not define.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import test from "node:test";
import {
  assertKnownSettings,
  gatewaySettings,
  packageDir,
  parseYaml,
  parseYamlDocuments,
  read,
  repo,
  run,
} from "./lib.mjs";

const require = createRequire(import.meta.url);
const OVERLAYS = ["dev", "prod"];

function kubectl() {
  const candidates = [process.env.KUBECTL, "/usr/bin/kubectl", "/usr/local/bin/kubectl"].filter(Boolean);
  for (const candidate of candidates) {
    const result = run(candidate, ["version", "--client"], { timeout: 10000 }).status;
    if (result === 0) return candidate;
  }
  throw new Error(
    "kubectl not found (looked for $KUBECTL, /usr/bin/kubectl, /usr/local/bin/kubectl): " +
      "the Kubernetes checks need it to render deploy/k8s with `kubectl kustomize`",
  );
}

const rendered = new Map();
function render(overlay) {
  if (!rendered.has(overlay)) {
    const result = run(kubectl(), ["kustomize", repo("deploy/k8s/overlays", overlay)]);
    assert.equal(result.status, 0, `kubectl kustomize deploy/k8s/overlays/${overlay}:\n${result.stderr}`);
    rendered.set(overlay, parseYamlDocuments(result.stdout));
  }
  return rendered.get(overlay);
}

const objectsOf = (objects, kind) => objects.filter((o) => o.kind === kind);
function only(objects, kind, name) {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0];
}

// --- schema validation -------------------------------------------------------

const modelsDir = () => packageDir("kubernetes-models");
const validators = new Map();

// The compiled schema validator of apiVersion/kind, from kubernetes-models.
function validatorFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (validators.has(key)) return validators.get(key);
  const modelFile = path.join(modelsDir(), apiVersion, `${kind}.js`);
  let source;
  try {
    source = readFileSync(modelFile, "utf8");
  } catch {
    throw new Error(`no Kubernetes schema for ${key} (kubernetes-models has no ${apiVersion}/${kind}.js)`);
  }
  const schemaName = /_schemas\/(IoK8s\w+)\.js/.exec(source)?.[1];
  assert.ok(schemaName, `cannot find the schema module of ${key}`);
  const { validate } = require(path.join(modelsDir(), "_schemas", `${schemaName}.js`));
  validators.set(key, validate);
  return validate;
}

// Wraps an object tree in Proxies that record, per object, the fields read
// and whether its keys were listed (a map-like field: any key is allowed).
function tracker() {
  const records = new Map();
  const proxies = new WeakMap();
  function wrap(value, at) {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const record = { at, read: new Set(), listed: false, isArray: Array.isArray(value) };
    records.set(value, record);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const field = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return field;
        record.read.add(key);
        return Object.hasOwn(target, key) ? wrap(field, `${at}/${key}`) : field;
      },
      has(target, key) {
        if (typeof key === "string") record.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        record.listed = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  }
  function unknownFields() {
    const unknown = [];
    for (const [object, record] of records) {
      if (record.isArray || record.listed) continue;
      for (const key of Object.keys(object)) if (!record.read.has(key)) unknown.push(`${record.at}/${key}`);
    }
    return unknown;
  }
  return { wrap, unknownFields };
}

// Problems of one object against its kind's schema, [] when valid.
function schemaProblems(object) {
  const validate = validatorFor(object.apiVersion, object.kind);
  const track = tracker();
  const copy = structuredClone(object);
  const problems = [];
  if (!validate(track.wrap(copy, ""))) {
    for (const error of validate.errors) {
      problems.push(`${error.instancePath || "/"} ${error.keyword} ${JSON.stringify(error.params)}`);
    }
  }
  for (const field of track.unknownFields()) problems.push(`${field}: unknown field`);
  return problems;
}

test("the schema validator rejects what the API server would (self-check)", () => {
  const good = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "x", labels: { a: "b" } },
    spec: {
      selector: { matchLabels: { a: "b" } },
      template: {
        metadata: { labels: { a: "b" } },
        spec: { containers: [{ name: "c", image: "i", resources: { limits: { cpu: "1" } } }] },
      },
    },
  };
  assert.deepEqual(schemaProblems(good), []);
  const typo = structuredClone(good);
  typo.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: "/readyz", port: 8080 } };
  assert.match(schemaProblems(typo).join("\n"), /containers\/0\/readinesProbe: unknown field/);
  const wrongType = structuredClone(good);
  wrongType.spec.replicas = "3";
  assert.match(schemaProblems(wrongType).join("\n"), /\/spec\/replicas type/);
  const missing = structuredClone(good);
  delete missing.spec.selector;
  assert.match(schemaProblems(missing).join("\n"), /required.*selector/);
  assert.throws(() => validatorFor("apps/v1", "NoSuchKind"), /no Kubernetes schema/);
});

for (const overlay of OVERLAYS) {
  test(`${overlay}: kubectl kustomize renders, and every object is valid against its Kubernetes schema`, () => {
    const objects = render(overlay);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      "Namespace",
      "ConfigMap",
      "Service",
      "Deployment",
      "StatefulSet",
      "Ingress",
      "PodDisruptionBudget",
      "NetworkPolicy",
    ]) {
      assert.ok(kinds.has(kind), `${overlay} renders no ${kind}`);
    }
    const problems = [];
    for (const object of objects) {
      for (const problem of schemaProblems(object)) {
        problems.push(`${object.kind} ${object.metadata?.name}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
    // One namespace for everything namespaced.
    const namespace = only(objects, "Namespace").metadata.name;
    for (const object of objects.filter((o) => o.kind !== "Namespace")) {
      assert.equal(object.metadata.namespace, namespace, `${object.kind} ${object.metadata.name} namespace`);
    }
  });

  test(`${overlay}: gateway probes, port and settings match the gateway`, () => {
    const objects = render(overlay);
    const deployment = only(objects, "Deployment", "chat-gateway");
    const pod = deployment.spec.template.spec;
    assert.equal(pod.containers.length, 1);
    const container = pod.containers[0];
    const configMap = only(objects, "ConfigMap");
    const config = configMap.data;
    const defaults = gatewaySettings();

    // Settings: every ConfigMap key is a gateway setting, secrets stay out.
    assertKnownSettings(Object.keys(config), `${overlay} ConfigMap`);
    for (const secret of ["API_KEY", "AUTH_SECRET"]) {
      assert.ok(!Object.hasOwn(config, secret), `${secret} belongs in the Secret, not the ConfigMap`);
    }
    const refs = container.envFrom;
    assert.equal(refs.find((r) => r.configMapRef)?.configMapRef.name, configMap.metadata.name);
    const secretRef = refs.find((r) => r.secretRef)?.secretRef;
    assert.ok(secretRef && !secretRef.optional, "the Secret is required");
    const secrets = objectsOf(objects, "Secret");
    if (overlay === "prod") {
      assert.equal(secrets.length, 0, "prod commits no Secret: it is created out of band");
      assert.equal(secretRef.name, "chat-gateway-secrets");
    } else {
      assert.equal(secrets.length, 1);
      assert.equal(secretRef.name, secrets[0].metadata.name);
      assertKnownSettings(Object.keys(secrets[0].data ?? secrets[0].stringData ?? {}), `${overlay} Secret`);
    }
    assert.deepEqual(container.env.find((e) => e.name === "GATEWAY_ID")?.valueFrom, {
      fieldRef: { fieldPath: "metadata.name" },
    });
    assertKnownSettings(container.env.map((e) => e.name), `${overlay} Deployment env`);

    // The port: PORT in the ConfigMap = the container port named http =
    // the image's EXPOSE; probes and Service use the name.
    const http = container.ports.find((p) => p.name === "http");
    assert.ok(http, "a container port named http");
    assert.equal(String(http.containerPort), config.PORT ?? defaults.get("PORT"), "containerPort = PORT");
    assert.match(read("deploy/docker/Dockerfile"), new RegExp(`^EXPOSE ${http.containerPort}$`, "m"));
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.ok([http.name, http.containerPort].includes(container.readinessProbe.httpGet.port));
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.ok([http.name, http.containerPort].includes(container.livenessProbe.httpGet.port));

    const service = only(objects, "Service", "chat-gateway");
    assert.deepEqual(
      service.spec.ports.map((p) => [p.name, p.port, p.targetPort]),
      [["http", 80, "http"]],
    );
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(deployment.spec.template.metadata.labels[key], value, "the Service selects the gateway pods");
    }
    const ingress = only(objects, "Ingress");
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    assert.equal(backend.name, service.metadata.name);
    assert.equal(backend.port.name ?? backend.port.number, backend.port.name ? "http" : 80);
    const annotations = ingress.metadata.annotations;
    assert.equal(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"], "3600");
    assert.equal(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"], "3600");
    assert.equal(ingress.spec.ingressClassName, "nginx");

    // REDIS_URL names a Service of the overlay, on its port.
    const redisUrl = new URL(config.REDIS_URL ?? defaults.get("REDIS_URL"));
    const redisService = only(objects, "Service", redisUrl.hostname);
    assert.ok(redisService.spec.ports.some((p) => String(p.port) === redisUrl.port), "REDIS_URL port");
  });

  test(`${overlay}: drain timing, security context, placement and resources of the gateway`, () => {
    const objects = render(overlay);
    const deployment = only(objects, "Deployment", "chat-gateway");
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const config = only(objects, "ConfigMap").data;

    // SIGKILL only after the preStop pause and the whole drain.
    const shutdown = Number(config.SHUTDOWN_TIMEOUT ?? gatewaySettings().get("SHUTDOWN_TIMEOUT"));
    const preStop = container.lifecycle.preStop.exec.command;
    assert.equal(preStop[0], "sleep");
    const pause = Number(preStop[1]);
    assert.ok(pause > 0 && pod.terminationGracePeriodSeconds > shutdown + pause,
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} must exceed SHUTDOWN_TIMEOUT ${shutdown} + preStop ${pause}`);

    // Non-root as the image's user, read-only root, no privileges.
    const user = /^USER (\d+)/m.exec(read("deploy/docker/Dockerfile"))[1];
    const securityContext = { ...pod.securityContext, ...container.securityContext };
    assert.equal(securityContext.runAsNonRoot, true);
    assert.equal(String(securityContext.runAsUser), user, "runAsUser is the image's USER");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(pod.automountServiceAccountToken, false);

    const antiAffinity = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(antiAffinity[0].podAffinityTerm.topologyKey, "kubernetes.io/hostname");
    for (const [key, value] of Object.entries(antiAffinity[0].podAffinityTerm.labelSelector.matchLabels)) {
      assert.equal(deployment.spec.template.metadata.labels[key], value);
    }
    for (const kind of ["requests", "limits"]) {
      assert.ok(container.resources[kind]?.cpu && container.resources[kind]?.memory, `resources.${kind}`);
    }

    const pdb = only(objects, "PodDisruptionBudget");
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const hpas = objectsOf(objects, "HorizontalPodAutoscaler");
    if (overlay === "dev") {
      assert.equal(deployment.spec.replicas, 1);
      assert.equal(hpas.length, 0, "dev has no autoscaler");
      assert.equal(pdb.spec.minAvailable, 1);
      assert.equal(container.image, "chat-gateway:dev");
    } else {
      assert.equal(hpas.length, 1);
      const hpa = hpas[0];
      assert.equal(hpa.apiVersion, "autoscaling/v2");
      assert.deepEqual(
        [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
        ["Deployment", deployment.metadata.name],
      );
      assert.equal(hpa.spec.minReplicas, 3);
      assert.equal(hpa.spec.maxReplicas, 10);
      assert.equal(hpa.spec.metrics[0].resource.name, "cpu");
      // The autoscaler owns the count; a fixed one would be reset by apply.
      assert.ok(deployment.spec.replicas === undefined || deployment.spec.replicas >= 3);
      assert.equal(pdb.spec.minAvailable, 2);
      assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, "a drain can still evict one gateway");
      assert.match(container.image, /^[^/]+\/.+:[^:]+$/, "prod pulls a tagged image from a registry");
      assert.ok(only(objects, "Ingress").spec.tls?.length > 0, "prod Ingress has TLS");
    }
  });

  test(`${overlay}: Redis StatefulSet with append-only persistence on a volume claim`, () => {
    const objects = render(overlay);
    const statefulSet = only(objects, "StatefulSet", "chat-redis");
    const service = only(objects, "Service", statefulSet.spec.serviceName);
    assert.equal(service.spec.clusterIP, "None", "the StatefulSet's Service is headless");
    const container = statefulSet.spec.template.spec.containers[0];
    assert.equal(container.image, "redis:7");
    assert.match([...(container.command ?? []), ...(container.args ?? [])].join(" "), /--appendonly yes/);
    const claim = statefulSet.spec.volumeClaimTemplates[0];
    assert.ok(claim.spec.resources.requests.storage);
    assert.ok(container.volumeMounts.some((m) => m.name === claim.metadata.name && m.mountPath === "/data"));
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(statefulSet.spec.template.metadata.labels[key], value);
    }
    const policy = only(objects, "NetworkPolicy", "chat-redis");
    assert.deepEqual(policy.spec.podSelector.matchLabels, statefulSet.spec.selector.matchLabels);
    const gatewayLabels = only(objects, "Deployment", "chat-gateway").spec.template.metadata.labels;
    for (const [key, value] of Object.entries(policy.spec.ingress[0].from[0].podSelector.matchLabels)) {
      assert.equal(gatewayLabels[key], value, "the NetworkPolicy lets the gateways in");
    }
  });
}

// deploy/k8s/overlays/prod-cluster: prod with the Redis Cluster component.
test("prod-cluster: renders valid objects; the gateways point at a formed 3+3 Redis Cluster", () => {
  const objects = render("prod-cluster");
  const problems = [];
  for (const object of objects) {
    for (const problem of schemaProblems(object)) problems.push(`${object.kind} ${object.metadata?.name}: ${problem}`);
  }
  assert.deepEqual(problems, []);
  const namespace = only(objects, "Namespace").metadata.name;
  for (const object of objects.filter((o) => o.kind !== "Namespace")) {
    assert.equal(object.metadata.namespace, namespace, `${object.kind} ${object.metadata.name} namespace`);
  }
  assert.equal(objects.filter((o) => o.metadata.name === "chat-redis").length, 0, "the single Redis is gone");
  const statefulSet = only(objects, "StatefulSet", "chat-redis-cluster");
  assert.equal(statefulSet.spec.replicas, 6);
  const service = only(objects, "Service", statefulSet.spec.serviceName);
  assert.equal(service.spec.clusterIP, "None");
  const command = [...statefulSet.spec.template.spec.containers[0].command, ...statefulSet.spec.template.spec.containers[0].args].join(" ");
  assert.match(command, /--cluster-enabled yes/);
  assert.match(command, /--appendonly yes/);
  assert.match(command, /--cluster-announce-hostname "\$\(hostname\)\.chat-redis-cluster"/);
  // REDIS_URL: redis+cluster:// seeds that are pods of that StatefulSet, on its port.
  const config = only(objects, "ConfigMap").data;
  const match = /^redis\+cluster:\/\/(.+)$/.exec(config.REDIS_URL);
  assert.ok(match, `REDIS_URL ${config.REDIS_URL}`);
  for (const seed of match[1].split(",")) {
    const [host, port] = seed.split(":");
    const pod = new RegExp(`^${statefulSet.metadata.name}-(\\d+)\\.${service.metadata.name}$`).exec(host);
    assert.ok(pod && Number(pod[1]) < 6, `seed ${seed} is a pod of the cluster`);
    assert.ok(service.spec.ports.some((p) => String(p.port) === port), `seed ${seed} port`);
  }
  const job = only(objects, "Job", "chat-redis-cluster-create");
  assert.match(job.spec.template.spec.containers[0].args.join(" "), /--cluster-create|--cluster create .*--cluster-replicas 1/);
  // The gateways may reach the nodes.
  const policy = only(objects, "NetworkPolicy", "chat-redis-cluster");
  const gatewayLabels = only(objects, "Deployment", "chat-gateway").spec.template.metadata.labels;
  assert.ok(policy.spec.ingress[0].from.some((f) =>
    Object.entries(f.podSelector.matchLabels).every(([k, v]) => gatewayLabels[k] === v)));
});

// deploy/k8s/overlays/prod-observed: prod with components/monitoring and
// components/gateway-api. The custom resources (Prometheus Operator, Gateway
// API) have no schema in kubernetes-models: their fields are checked here.
test("prod-observed: ServiceMonitor, PrometheusRule, HTTPRoute and scaling on connections fit the gateway", () => {
  const objects = render("prod-observed");
  const crdKinds = new Set(["ServiceMonitor", "PrometheusRule", "HTTPRoute"]);
  const problems = [];
  for (const object of objects.filter((o) => !crdKinds.has(o.kind))) {
    for (const problem of schemaProblems(object)) problems.push(`${object.kind} ${object.metadata?.name}: ${problem}`);
  }
  assert.deepEqual(problems, []);
  assert.equal(objectsOf(objects, "Ingress").length, 0, "the HTTPRoute replaces the Ingress");
  const service = only(objects, "Service", "chat-gateway");

  const monitor = only(objects, "ServiceMonitor", "chat-gateway");
  assert.equal(monitor.apiVersion, "monitoring.coreos.com/v1");
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
    assert.equal(service.metadata.labels[key], value, "the ServiceMonitor selects the gateway Service");
  }
  assert.ok(service.spec.ports.some((p) => p.name === monitor.spec.endpoints[0].port), "scrapes a Service port");
  assert.equal(monitor.spec.endpoints[0].path, "/metrics");

  const rule = only(objects, "PrometheusRule", "chat-gateway");
  const alerts = parseYaml(read("deploy/prometheus/chat-alerts.yml"));
  assert.deepEqual(rule.spec.groups, alerts.groups, "the PrometheusRule holds deploy/prometheus/chat-alerts.yml");

  const route = only(objects, "HTTPRoute", "chat-gateway");
  assert.equal(route.apiVersion, "gateway.networking.k8s.io/v1");
  const backend = route.spec.rules[0].backendRefs[0];
  assert.equal(backend.name, service.metadata.name);
  assert.ok(service.spec.ports.some((p) => p.port === backend.port), "the route's port is the Service's");
  assert.equal(route.spec.rules[0].timeouts.request, "0s", "no request timeout: WebSockets stay open");
  assert.ok(route.spec.parentRefs.length > 0 && route.spec.hostnames.length > 0);

  const hpa = only(objects, "HorizontalPodAutoscaler");
  const pods = hpa.spec.metrics.find((m) => m.type === "Pods");
  assert.equal(pods?.pods.metric.name, "chat_connections");
  assert.ok(hpa.spec.metrics.some((m) => m.type === "Resource" && m.resource.name === "cpu"));
});
