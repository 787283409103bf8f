import {
  aptName,
  parseBehind,
  parseStatus,
  updatesReport,
  type PendingUpdate,
} from "../../stacks/package-updates";

test("a status.d file's stanzas: name, version, architecture", () => {
  const text = [
    "Package: libssl3",
    "Status: install ok installed",
    "Architecture: arm64",
    "Version: 3.0.17-1~deb12u2",
    "Description: Secure Sockets Layer toolkit",
    " - shared libraries",
    "",
    "Package: tzdata",
    "Version: 2025b-0+deb12u1",
    "Architecture: all",
    "",
  ].join("\n");
  const packages = parseStatus(text);
  expect(packages).toEqual([
    { name: "libssl3", version: "3.0.17-1~deb12u2", architecture: "arm64" },
    { name: "tzdata", version: "2025b-0+deb12u1", architecture: "all" },
  ]);
  expect(packages.map(aptName)).toEqual(["libssl3:arm64", "tzdata"]);
});

test("package-updates.sh's lines, by the package and version asked about", () => {
  const behind = parseBehind(
    "libssl3:arm64 3.0.17-1~deb12u2 3.0.18-1~deb12u1 bookworm-security\n" +
      "libgone:amd64 1.0-1 (none) -\n",
  );
  expect([...behind.entries()]).toEqual([
    [
      "libssl3:arm64=3.0.17-1~deb12u2",
      {
        package: "libssl3",
        installed: "3.0.17-1~deb12u2",
        candidate: "3.0.18-1~deb12u1",
        suites: ["bookworm-security"],
      },
    ],
    [
      "libgone:amd64=1.0-1",
      { package: "libgone", installed: "1.0-1", candidate: "(none)", suites: [] },
    ],
  ]);
});

test("the report lists security updates first, then by service, platform and package", () => {
  const u = (service: string, pkg: string, suite: string): PendingUpdate => ({
    service,
    platform: "linux/amd64",
    package: pkg,
    installed: "1",
    candidate: "2",
    suites: [suite],
  });
  const report = updatesReport(
    [
      u("api-server", "zlib1g", "bookworm-updates"),
      u("tor-proxy", "libssl3", "bookworm-security"),
      u("api-gateway", "libc6", "bookworm"),
    ],
    10,
  );
  expect(report.split("\n")).toEqual([
    "3 package(s) behind their Debian suites, 1 of them security updates:",
    "security  tor-proxy (linux/amd64)  libssl3 1 -> 2  [bookworm-security]",
    "update    api-gateway (linux/amd64)  libc6 1 -> 2  [bookworm]",
    "update    api-server (linux/amd64)  zlib1g 1 -> 2  [bookworm-updates]",
  ]);
  expect(updatesReport([], 10)).toBe(
    "every package of the 10 images is current in its Debian suites",
  );
});
