import type * as auto from "@pulumi/pulumi/automation";
import { basesSchema, NAMESPACE, stackSchema } from "./config";

/**
 * Progress of one Pulumi run, from its engine events: which resources are being worked on (images
 * by service, platform and release), how far through the images the run is, and for how long.
 * Pulumi itself prints a line only when a resource starts or ends, and an arm64 image under QEMU
 * can take minutes: this names what is running at least every `everyMs` (a line), or keeps a live
 * line under the output on a terminal.
 */
export interface ProgressOptions {
  /** What the run is, at the start of each line (e.g. "up dev"). */
  label: string;
  /** The Debian release the images are built on, named beside each image. */
  release?: string;
  /** How many platforms each image is built for (images expected = components x platforms). */
  platforms?: number;
  /** Where lines go. @default process.stderr */
  out?: { write(s: string): unknown; isTTY?: boolean };
  /** @default 30_000 (lines), 1_000 (a live line) */
  everyMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export interface Progress {
  onEvent(e: auto.EngineEvent): void;
  /** Writes the run's own output, keeping the live line below it. */
  write(s: string): void;
  /** The status line as it stands (what the next tick prints). */
  line(): string;
  stop(): void;
}

const IMAGE = "docker-build:index:Image";
const COMPONENT = "lucid:images:DistrolessImage";
const REMOVALS = new Set(["delete", "delete-replaced", "discard", "discard-replaced"]);

/** A resource's name in words: `api-server linux/arm64 (bookworm)` for a platform's image. */
export function describe(type: string, urn: string, release?: string): string {
  const name = urn.slice(urn.lastIndexOf("::") + 2);
  if (type === IMAGE) {
    const m = /^(.*)-(linux)-([a-z0-9]+)$/.exec(name);
    const what = m ? `${m[1]} ${m[2]}/${m[3]}` : name;
    return release ? `${what} (${release})` : what;
  }
  if (type === "docker-build:index:Index") return `manifest list ${name}`;
  return `${type.split(":").pop()} ${name}`;
}

export const clock = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
};

export function startProgress(opts: ProgressOptions): Progress {
  const out = opts.out ?? process.stderr;
  const now = opts.now ?? Date.now;
  const live = Boolean(out.isTTY);
  const started = now();
  const running = new Map<string, { what: string; since: number; image: boolean }>();
  let components = 0;
  const imagesDone = new Set<string>(); // by URN: a replacement's steps share one
  let shown = false; // a live line is on the screen

  const line = (): string => {
    const parts: string[] = [];
    const expected = components * (opts.platforms ?? 0);
    if (expected > 0) parts.push(`images ${imagesDone.size}/${expected} built`);
    const work = [...running.values()].sort((a, b) => a.since - b.since);
    if (work.length > 0) {
      const verb = work.every((w) => w.image) ? "building" : "working on";
      parts.push(`${verb} ${work.map((w) => `${w.what} ${clock(now() - w.since)}`).join(", ")}`);
    }
    return `${opts.label} ${clock(now() - started)}${parts.length ? ": " : ""}${parts.join("; ")}`;
  };
  const clear = () => {
    if (shown) out.write("\r\x1b[K");
    shown = false;
  };
  const tick = () => {
    if (running.size === 0) return;
    if (live) {
      clear();
      out.write(line().slice(0, 200));
      shown = true;
    } else {
      const t = new Date(now()).toISOString().slice(11, 19);
      out.write(`[lucid ${t}] ${line()}\n`);
    }
  };
  const timer = setInterval(tick, opts.everyMs ?? (live ? 1_000 : 30_000));
  timer.unref();

  return {
    onEvent(e) {
      const pre = e.resourcePreEvent?.metadata;
      if (pre) {
        if (pre.type === COMPONENT && !REMOVALS.has(pre.op)) components++;
        if (pre.op === "same" || pre.type.startsWith("pulumi:")) return;
        if (pre.type === COMPONENT) return; // its images are the work
        running.set(pre.urn, {
          what: describe(pre.type, pre.urn, opts.release),
          since: now(),
          image: pre.type === IMAGE,
        });
        return;
      }
      const done = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
      if (done) {
        running.delete(done.urn);
        if (done.type === IMAGE && e.resOutputsEvent && !REMOVALS.has(done.op))
          imagesDone.add(done.urn);
      }
    },
    write(s) {
      clear();
      out.write(s);
    },
    line,
    stop() {
      clearInterval(timer);
      clear();
    },
  };
}

/** What a stack's file says of its images: the release and the platform count, with defaults. */
export function imageShape(config: Record<string, unknown>): {
  release: string;
  platforms: number;
} {
  const bases = (config[`${NAMESPACE}:bases`] ?? {}) as { debian?: unknown };
  const platforms = config[`${NAMESPACE}:platforms`];
  const release = basesSchema.shape.debian.safeParse(bases.debian ?? undefined);
  return {
    release: release.success ? release.data : String(bases.debian),
    platforms: Array.isArray(platforms)
      ? platforms.length
      : stackSchema.shape.platforms.parse(undefined).length,
  };
}
