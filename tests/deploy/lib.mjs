// Shared helpers of the deploy checks (node --test tests/deploy/*.test.mjs).
// Everything here runs offline: files of the repository, tools of Debian's
// packages (kubectl, haproxy, nginx, redis-server, dpkg) and the npm packages
// of tests/deploy/package-lock.json.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const repo = (...parts) => path.join(root, ...parts);
export const read = (...parts) => readFileSync(repo(...parts), "utf8");

const require = createRequire(import.meta.url);

// Loads an npm package of tests/deploy, or fails with the command that
// installs them.
export function need(name) {
  try {
    return require(name);
  } catch (error) {
    if (error.code !== "MODULE_NOT_FOUND" && error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error;
    throw new Error(
      `npm package '${name}' is missing: run \`npm ci --prefix tests/deploy\` (${error.message.split("\n")[0]})`,
    );
  }
}

// The folder of an installed npm package (its package.json is always exported).
export function packageDir(name) {
  need(`${name}/package.json`);
  return path.dirname(require.resolve(`${name}/package.json`));
}

export function parseYamlDocuments(text) {
  const YAML = need("yaml");
  const docs = YAML.parseAllDocuments(text, { merge: true });
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0].message}`);
  }
  return docs.map((doc) => doc.toJS()).filter((obj) => obj !== null && obj !== undefined);
}

export function parseYaml(text) {
  const docs = parseYamlDocuments(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0];
}

// The path of a program, or a failure that says which package brings it.
export function tool(name, hint) {
  for (const dir of (process.env.PATH || "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin"])) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: ${hint}`);
}

// Runs a program to completion; returns {status, stdout, stderr}.
export function run(program, args, options = {}) {
  const result = spawnSync(program, args, { encoding: "utf8", timeout: 20000, ...options });
  if (result.error) throw result.error;
  return result;
}

// Reads a package list the way scripts/setup reads scripts/packages.txt:
// '#' starts a comment, white space is dropped, empty lines are skipped.
export function readPackageList(...parts) {
  const packages = [];
  for (const raw of read(...parts).split("\n")) {
    const line = raw.replace(/#.*/, "").replace(/\s+/g, "");
    if (line) packages.push(line);
  }
  return packages;
}

// The settings table of common/config/settings.cpp: name -> default (a
// string literal's value, or null when the default is computed at run time).
export function gatewaySettings() {
  const source = read("common/config/settings.cpp");
  const settings = new Map();
  for (const match of source.matchAll(/^\s*\{"([A-Z][A-Z0-9_]*)",\s*("((?:[^"\\]|\\.)*)"|[^,]+),/gm)) {
    settings.set(match[1], match[3] !== undefined ? match[3] : null);
  }
  if (!settings.has("PORT") || !settings.has("SHUTDOWN_TIMEOUT")) {
    throw new Error("could not read the settings table of common/config/settings.cpp");
  }
  return settings;
}

// Settings that deploy files may name before common/config/settings.cpp has
// them (a feature landing in the same change); keep it empty otherwise.
export const PENDING_SETTINGS = new Set([]);

// Fails unless every name is a setting of the gateway.
export function assertKnownSettings(names, where) {
  const settings = gatewaySettings();
  const unknown = [...names].filter((name) => !settings.has(name) && !PENDING_SETTINGS.has(name));
  if (unknown.length > 0) {
    throw new Error(`${where}: not settings of the gateway (common/config/settings.cpp): ${unknown.join(", ")}`);
  }
}

// The chat-gateway binary to run: $CHAT_GATEWAY (ctest sets it to the one it
// built), else the release build.
export function gatewayBinary() {
  const given = process.env.CHAT_GATEWAY;
  if (given) {
    if (existsSync(given)) return given;
    throw new Error(`CHAT_GATEWAY=${given} does not exist: build the chat-gateway target first`);
  }
  const release = repo("build/release/gateway/chat-gateway");
  if (existsSync(release)) return release;
  throw new Error("chat-gateway binary not found: set CHAT_GATEWAY, or build it (scripts/build release); ctest sets it");
}

// A free TCP port on 127.0.0.1 (released again: a small race, retried by
// callers that start servers).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts a long-running process; keeps its output for failure messages.
export function startProcess(name, program, args, options = {}) {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const proc = { name, child, output: "", exited: null };
  const collect = (chunk) => {
    proc.output += chunk.toString();
    if (proc.output.length > 200000) proc.output = proc.output.slice(-100000);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  proc.exitedPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      proc.exited = { code, signal };
      resolve(proc.exited);
    });
    child.on("error", (error) => {
      proc.output += `\n[spawn error] ${error.message}`;
      proc.exited = { code: null, signal: null, error };
      resolve(proc.exited);
    });
  });
  return proc;
}

// SIGTERM, then SIGKILL after graceMs.
export async function stopProcess(proc, graceMs = 5000) {
  if (!proc || proc.exited) return;
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.exited || proc.child.kill("SIGKILL"), graceMs);
  await proc.exitedPromise;
  clearTimeout(timer);
}

// Waits until check() returns a truthy value, or fails after timeoutMs.
export async function waitFor(what, check, timeoutMs = 10000, proc = null) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (proc && proc.exited) {
      throw new Error(`${proc.name} exited (${JSON.stringify(proc.exited)}) before ${what}:\n${proc.output}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${proc ? `; ${proc.name} said:\n${proc.output}` : ""}`);
    }
    await sleep(50);
  }
}
