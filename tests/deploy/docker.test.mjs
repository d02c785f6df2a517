// deploy/docker/Dockerfile: the build stage installs the build packages of
// scripts/packages.txt (the rule below), builds exactly as documented, and the
// runtime stage has every library the gateway loads.
//
// The package rule: the build stage installs every package of
// scripts/packages.txt except those listed in deploy/docker/build-exclude.txt,
// and what it installs is exactly what the build needs: the toolchain
// (build-essential, cmake, pkg-config, g++) and every package that
// cmake/ChatDependencies.cmake asks for outside if(CHAT_TESTS). Checked here:
// (1) deploy/docker/packages.sh, which the Dockerfile runs, prints
// scripts/packages.txt less the excluded names, reading the list the way
// scripts/setup does; (2) nothing the build needs is excluded or missing from
// scripts/packages.txt; (3) nothing else is left in, so a package added to
// scripts/packages.txt for tests or tools fails here until it is excluded;
// (4) the Dockerfile really runs that pipeline.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import {
  gatewayBinary,
  gatewaySettings,
  need,
  read,
  readPackageList,
  repo,
  run,
  tool,
} from "./lib.mjs";

function parseDockerfile() {
  const { DockerfileParser } = need("dockerfile-ast");
  const dockerfile = DockerfileParser.parse(read("deploy/docker/Dockerfile"));
  const stages = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArguments().map((arg) => arg.getValue());
    const flags = (instruction.getFlags ? instruction.getFlags() : []).map((flag) => ({
      name: flag.getName(),
      value: flag.getValue(),
    }));
    if (keyword === "FROM") {
      stages.push({ name: args[2] ?? null, from: args[0], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1).instructions.push({ keyword, args, flags, text: instruction.getArgumentsContent() ?? "" });
    }
  }
  return { dockerfile, stages };
}

const oneLine = (text) => text.replace(/\\\n/g, " ").replace(/\s+/g, " ").trim();

const TOOLCHAIN = ["build-essential", "cmake", "pkg-config", "g++"];

// Debian packages the Release build needs: the toolchain, and what
// cmake/ChatDependencies.cmake tells to install outside if(CHAT_TESTS) ...
// endif() blocks.
function packagesTheBuildNeeds() {
  const cmake = read("cmake/ChatDependencies.cmake").replace(/^\s*if\(CHAT_TESTS\)[\s\S]*?^\s*endif\(\)/gm, "");
  const needed = new Set(TOOLCHAIN);
  for (const match of cmake.matchAll(/chat_require_module\(\s*\S+\s+\S+\s+([a-z0-9][a-z0-9+.-]+)\s*\)/g)) {
    needed.add(match[1]);
  }
  for (const match of cmake.matchAll(/apt-get install -y ([a-z0-9][a-z0-9+.-]+)/g)) needed.add(match[1]);
  return needed;
}

test("packages.sh lists scripts/packages.txt less build-exclude.txt, read as scripts/setup does", () => {
  const all = readPackageList("scripts/packages.txt");
  const excluded = readPackageList("deploy/docker/build-exclude.txt");
  const expected = all.filter((name) => !excluded.includes(name));
  const result = run("bash", [
    repo("deploy/docker/packages.sh"),
    repo("scripts/packages.txt"),
    repo("deploy/docker/build-exclude.txt"),
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split("\n"), expected);
  // scripts/setup's own parsing, for the same list, agrees with readPackageList.
  const setup = read("scripts/setup");
  assert.match(setup, /line=\$\{line%%#\*\}/, "scripts/setup no longer strips comments as packages.sh does");
  assert.match(setup, /line=\$\{line\/\/\[\[:space:\]\]\/\}/, "scripts/setup no longer strips white space as packages.sh does");
});

test("the build stage installs exactly the packages of scripts/packages.txt that the build needs", () => {
  const all = readPackageList("scripts/packages.txt");
  const excluded = readPackageList("deploy/docker/build-exclude.txt");
  const needed = packagesTheBuildNeeds();
  assert.ok(needed.has("libuv1-dev") && needed.has("libwebsockets-evlib-uv"), "could not read cmake/ChatDependencies.cmake");
  const build = all.filter((name) => !excluded.includes(name));

  const wronglyExcluded = excluded.filter((name) => needed.has(name));
  assert.deepEqual(wronglyExcluded, [], `deploy/docker/build-exclude.txt excludes packages the build needs: ${wronglyExcluded}`);
  const missing = [...needed].filter((name) => !build.includes(name));
  assert.deepEqual(missing, [], `the build needs packages that scripts/packages.txt lacks: ${missing}`);
  const unneeded = build.filter((name) => !needed.has(name));
  assert.deepEqual(
    unneeded,
    [],
    `scripts/packages.txt has packages the image build does not need: ${unneeded}. ` +
      "If they are for tests or tools, add them to deploy/docker/build-exclude.txt; if the build " +
      "needs them, cmake/ChatDependencies.cmake should ask for them (chat_require_module).",
  );
  const stale = excluded.filter((name) => !all.includes(name));
  if (stale.length > 0) console.log(`note: build-exclude.txt names packages no longer in scripts/packages.txt: ${stale}`);
});

test("Dockerfile build stage installs the package list and builds as documented", () => {
  const { stages } = parseDockerfile();
  assert.equal(stages.length, 2, "two stages: build and runtime");
  const [build, runtime] = stages;
  assert.equal(build.name, "build");
  assert.equal(runtime.name, "runtime");
  const dockerText = read("deploy/docker/Dockerfile");
  assert.match(dockerText, /^ARG DEBIAN_IMAGE=debian:bookworm-slim$/m, "both stages on debian:bookworm-slim");
  for (const stage of stages) assert.equal(stage.from, "${DEBIAN_IMAGE}");

  const copies = build.instructions.filter((i) => i.keyword === "COPY" && i.flags.length === 0);
  const copied = copies.flatMap((i) => i.args.slice(0, -1));
  for (const source of copied) assert.ok(existsSync(repo(source)), `COPY source ${source} is not in the repository`);
  assert.ok(copied.includes("scripts/packages.txt"));
  assert.ok(copied.includes("deploy/docker/packages.sh") && copied.includes("deploy/docker/build-exclude.txt"));

  const runs = build.instructions.filter((i) => i.keyword === "RUN").map((i) => oneLine(i.text));
  assert.ok(
    runs.some((r) =>
      /deploy\/docker\/packages\.sh scripts\/packages\.txt deploy\/docker\/build-exclude\.txt \| xargs [^|&]*apt-get install -y --no-install-recommends/.test(r),
    ),
    `no RUN installs the output of packages.sh: ${runs.join(" // ")}`,
  );
  // SHELL with pipefail, or a failing packages.sh would go unnoticed.
  assert.ok(build.instructions.some((i) => i.keyword === "SHELL" && i.text.includes("pipefail")));
  assert.ok(runtime.instructions.some((i) => i.keyword === "SHELL" && i.text.includes("pipefail")));

  // The documented release build, word for word.
  assert.ok(
    runs.some((r) => r.includes("cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCHAT_TESTS=OFF")),
    "the build stage must configure with: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCHAT_TESTS=OFF",
  );
  assert.ok(runs.some((r) => r.includes("cmake --build build/release")));

  // Every source folder the top-level CMakeLists.txt builds (tests and fuzzers are off)
  // is copied into the build stage.
  const cmakeLists = read("CMakeLists.txt").replace(/^\s*if\((?:CHAT_TESTS|CHAT_FUZZ)\)[\s\S]*?^\s*endif\(\)/gm, "");
  const subdirs = [...cmakeLists.matchAll(/add_subdirectory\(\s*([^\s)]+)/g)].map((m) => m[1]);
  assert.ok(subdirs.includes("gateway"), "could not read CMakeLists.txt");
  for (const dir of [...subdirs, "cmake", "CMakeLists.txt", "frontend"]) {
    assert.ok(copied.includes(dir), `the build stage does not COPY ${dir}`);
  }
});

test("Dockerfile runtime stage: runtime packages, non-root, port, health check, signal, static files", () => {
  const { stages } = parseDockerfile();
  const runtime = stages[1].instructions;
  const find = (keyword) => runtime.filter((i) => i.keyword === keyword);

  const runs = find("RUN").map((i) => oneLine(i.text));
  assert.ok(
    runs.some((r) => /packages\.sh \S*runtime-packages\.txt \| xargs [^|&]*apt-get install -y --no-install-recommends/.test(r)),
    "the runtime stage must install runtime-packages.txt through packages.sh",
  );
  assert.ok(runs.some((r) => r.includes("--uid 10001")), "a user with uid 10001");
  assert.deepEqual(find("USER").map((i) => i.text), ["10001:10001"]);

  const port = gatewaySettings().get("PORT");
  assert.deepEqual(find("EXPOSE").map((i) => i.text), [port], "EXPOSE the gateway's default PORT");
  assert.deepEqual(find("STOPSIGNAL").map((i) => i.text), ["SIGTERM"]);

  const env = find("ENV").flatMap((i) => i.args);
  assert.ok(env.includes("STATIC_DIR=/app/frontend"), `ENV STATIC_DIR=/app/frontend, got ${env}`);
  const fromBuild = find("COPY").filter((i) => i.flags.some((f) => f.name === "from" && f.value === "build"));
  const targets = new Map(fromBuild.map((i) => [i.args.at(-1), i.args[0]]));
  assert.equal(targets.get("/app/frontend"), "/src/frontend");
  assert.equal(targets.get("/usr/local/bin/chat-gateway"), "/src/build/release/gateway/chat-gateway");

  const healthcheck = find("HEALTHCHECK");
  assert.equal(healthcheck.length, 1);
  assert.match(healthcheck[0].text, /CMD \["chat-healthcheck", "\/healthz"\]/);
  const plainCopies = find("COPY").filter((i) => i.flags.length === 0);
  assert.ok(
    plainCopies.some((i) => i.args[0] === "deploy/docker/healthcheck.sh" && i.args.at(-1) === "/usr/local/bin/chat-healthcheck"),
  );
  assert.ok(statSync(repo("deploy/docker/healthcheck.sh")).mode & 0o111, "healthcheck.sh must be executable");
  assert.ok(statSync(repo("deploy/docker/packages.sh")).mode & 0o111, "packages.sh must be executable");
  assert.deepEqual(find("CMD").map((i) => i.text), ['["chat-gateway"]']);
  assert.equal(find("ENTRYPOINT").length, 0, "no ENTRYPOINT: Heroku's run command replaces CMD");
});

test("Dockerfile passes the Dockerfile linter (dockerfile-utils)", () => {
  const { validate } = need("dockerfile-utils");
  const problems = validate(read("deploy/docker/Dockerfile")).map(
    (d) => `line ${d.range.start.line + 1}: ${d.message}`,
  );
  assert.deepEqual(problems, []);
  // The linter does catch mistakes (so an empty list above means something).
  assert.ok(validate("FROM debian\nRUNN true\nEXPOSE http\n").length >= 2);
});

test("shell scripts of the image parse", () => {
  for (const script of ["deploy/docker/healthcheck.sh", "deploy/docker/packages.sh"]) {
    const result = run("bash", ["-n", repo(script)]);
    assert.equal(result.status, 0, `${script}: ${result.stderr}`);
  }
});

// --- the runtime image has every library the gateway loads -------------------

// Debian package of each file (paths as ldd prints them). Debian 12 merges /lib into /usr/lib, and dpkg knows a file under
// whichever of the two its package ships it.
function dpkgOwners(files) {
  const variants = new Map();
  for (const file of files) {
    const names = new Set([file]);
    try {
      names.add(realpathSync(file));
    } catch {}
    for (const name of [...names]) {
      if (name.startsWith("/usr/lib/")) names.add(name.slice(4));
      else if (name.startsWith("/lib")) names.add(`/usr${name}`);
    }
    variants.set(file, names);
  }
  // dpkg's own file lists (what dpkg-query -S reads, minus its start-up
  // cost per call): /var/lib/dpkg/info/PACKAGE[:ARCH].list.
  const wanted = new Set([...variants.values()].flatMap((names) => [...names]));
  const ownerOf = new Map();
  const info = "/var/lib/dpkg/info";
  for (const entry of readdirSync(info)) {
    if (!entry.endsWith(".list")) continue;
    const owner = entry.slice(0, -".list".length).split(":")[0];
    for (const line of readFileSync(path.join(info, entry), "utf8").split("\n")) {
      if (wanted.has(line) && !ownerOf.has(line)) ownerOf.set(line, owner);
    }
  }
  const owners = new Map();
  for (const [file, names] of variants) {
    const owner = [...names].map((name) => ownerOf.get(name)).find(Boolean);
    owners.set(file, owner ?? null);
  }
  return owners;
}

// Every package the given ones pull in (Pre-Depends and Depends, every
// alternative), from the installed packages' records.
function dependsClosure(packages) {
  const result = run("dpkg-query", ["-W", "-f=${Package}\t${Pre-Depends}, ${Depends}\n"]);
  const depends = new Map();
  for (const line of result.stdout.split("\n")) {
    const [name, deps] = line.split("\t");
    if (!name) continue;
    const list = (deps || "")
      .split(/[,|]/)
      .map((alternative) => alternative.trim().split(/[\s:(]/)[0])
      .filter(Boolean);
    depends.set(name, (depends.get(name) || []).concat(list));
  }
  const seen = new Set();
  const queue = [...packages];
  while (queue.length > 0) {
    const name = queue.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...(depends.get(name) || []));
  }
  return seen;
}

function sharedLibraries(file) {
  const result = run("ldd", [file]);
  assert.equal(result.status, 0, `ldd ${file}: ${result.stderr}`);
  return [...result.stdout.matchAll(/=>\s+(\/\S+)/g)].map((m) => m[1]);
}

test("runtime-packages.txt covers every shared library chat-gateway and its libuv plugin load", () => {
  tool("dpkg-query", "this check runs on Debian");
  tool("ldd", "apt-get install libc-bin");
  const binary = gatewayBinary();
  const runtime = readPackageList("deploy/docker/runtime-packages.txt");
  for (const name of runtime) {
    const status = run("dpkg-query", ["-W", "-f=${Status}", name]);
    assert.equal(status.stdout, "install ok installed", `${name} of runtime-packages.txt is not a Debian package installed here`);
  }
  // libwebsockets loads its libuv support at run time: not in ldd's list.
  const plugin = run("dpkg-query", ["-L", "libwebsockets-evlib-uv"])
    .stdout.split("\n")
    .find((line) => /evlib_uv\.so$/.test(line));
  assert.ok(plugin, "libwebsockets-evlib-uv ships no evlib_uv plugin");

  // Base image: debian:bookworm-slim has these (apt needs them).
  const base = new Set(["libc6", "libgcc-s1", "libstdc++6"]);
  const provided = dependsClosure([...runtime, ...base]);
  const libraries = [...sharedLibraries(binary), ...sharedLibraries(plugin)];
  const ownerOf = dpkgOwners(libraries);
  const owners = new Map();
  for (const lib of libraries) {
    const owner = ownerOf.get(lib);
    assert.ok(owner, `no Debian package owns ${lib}`);
    // The sanitizer runtimes of a test build are not part of the image's build.
    if (/^lib(a|ub|t|l|hwa)san\d/.test(owner)) continue;
    owners.set(owner, lib);
  }
  const missing = [...owners.keys()].filter((owner) => !provided.has(owner));
  assert.deepEqual(
    missing,
    [],
    `libraries from packages that the runtime image would lack: ${missing.map((p) => `${p} (${owners.get(p)})`)}`,
  );
  const direct = new Set(sharedLibraries(binary).map((lib) => ownerOf.get(lib)));
  const unused = runtime.filter(
    (name) => !direct.has(name) && !["ca-certificates", "libwebsockets-evlib-uv"].includes(name),
  );
  if (unused.length > 0) {
    console.log(`note: runtime packages ${unused} provide no library that ${binary} links directly`);
  }
});
