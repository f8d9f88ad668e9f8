import { InvalidConfigError } from "../errors.ts";
import type { JobClass } from "./base-job.ts";

/** A branch segment appears in URLs: URL-safe, like a job type, but never `.` or `..`. */
const SEGMENT_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}$/;
/** Deeper trees are a naming mistake, not a catalogue; it also bounds the URLs discovery parses. */
const MAX_DEPTH = 16;

/** A sub-branch, as `GET /{branch}/branches` lists it. */
export interface BranchInfo {
  /** The whole path: `"media/images"`. */
  path: string;
  /** Its last segment: `"images"`. */
  name: string;
}

/** A job type in a branch, as `GET /{branch}/leaves` lists it. */
export interface LeafInfo {
  /** The branch path and the job type: `"examples/waste_time"`. */
  path: string;
  jobType: string;
  /** The class's `displayName`, else its class name. */
  name: string;
  description: string;
}

/** The segments of a class's `static branch` (empty: in no branch); InvalidConfigError when malformed. */
export function branchSegments(cls: JobClass): string[] {
  const raw = cls.branch;
  if (raw === undefined || raw === null) return [];
  const who = `${cls.name || "(anonymous class)"} (${cls.jobType})`;
  if (typeof raw !== "string") throw new InvalidConfigError(`${who}: static branch must be a string or null`);
  const segments = raw.split("/");
  if (segments.length > MAX_DEPTH || !segments.every((s) => SEGMENT_PATTERN.test(s))) {
    throw new InvalidConfigError(
      `${who}: static branch '${raw}' must be up to ${MAX_DEPTH} '/'-separated segments of 1-100 letters, ` +
        "digits, '_', '-' or '.' (no empty segment, no leading or trailing '/', not '.' or '..')",
    );
  }
  return segments;
}

/** What discovery shows as a job type's name: `static displayName`, else the class's own name. */
export function displayNameOf(cls: JobClass): string {
  const d = cls.displayName;
  if (d !== undefined && d !== null && typeof d !== "string") {
    throw new InvalidConfigError(`${cls.name} (${cls.jobType}): static displayName must be a string or null`);
  }
  return d || cls.name || cls.jobType;
}

interface Node {
  readonly children: Map<string, Node>;
  readonly leaves: Map<string, JobClass>;
}

const newNode = (): Node => ({ children: new Map(), leaves: new Map() });

/**
 * The branches job classes declare, as a tree: branches hold sub-branches and leaves (job types).
 * A path is either a branch or a leaf, never both: building the tree refuses a job type whose
 * name is also a sub-branch of its branch.
 */
export class BranchTree {
  readonly #root = newNode();

  constructor(classes: Iterable<JobClass>) {
    for (const cls of classes) this.#add(cls);
  }

  /** Sub-branches directly below `branch` ([] is the root), by name; null when there is no such branch. */
  branches(branch: readonly string[]): BranchInfo[] | null {
    const node = this.#find(branch);
    if (!node) return null;
    return [...node.children.keys()].sort().map((name) => ({ path: [...branch, name].join("/"), name }));
  }

  /** The job types directly in `branch`, by job type; null when there is no such branch. */
  leaves(branch: readonly string[]): LeafInfo[] | null {
    const node = this.#find(branch);
    if (!node) return null;
    return [...node.leaves.keys()].sort().map((jobType) => leafInfo(branch, node.leaves.get(jobType) as JobClass));
  }

  /** The class of leaf `jobType` in `branch`: `"no-branch"` or `"no-leaf"` when either is missing. */
  leaf(branch: readonly string[], jobType: string): JobClass | "no-branch" | "no-leaf" {
    const node = branch.length === 0 ? null : this.#find(branch);
    if (!node) return "no-branch";
    return node.leaves.get(jobType) ?? "no-leaf";
  }

  /** Every branch path, parents before children. */
  allBranches(): string[][] {
    const out: string[][] = [];
    const walk = (node: Node, path: string[]): void => {
      for (const name of [...node.children.keys()].sort()) {
        out.push([...path, name]);
        walk(node.children.get(name) as Node, [...path, name]);
      }
    };
    walk(this.#root, []);
    return out;
  }

  #find(branch: readonly string[]): Node | null {
    let node: Node | undefined = this.#root;
    for (const seg of branch) {
      node = node.children.get(seg);
      if (!node) return null;
    }
    return node;
  }

  #add(cls: JobClass): void {
    const segments = branchSegments(cls);
    displayNameOf(cls); // checks its type
    if (segments.length === 0) return;
    let node = this.#root;
    for (const [i, seg] of segments.entries()) {
      const clash = node.leaves.get(seg);
      if (clash) throw collision(cls, segments.slice(0, i + 1), clash);
      let child = node.children.get(seg);
      if (!child) {
        child = newNode();
        node.children.set(seg, child);
      }
      node = child;
    }
    if (node.children.has(cls.jobType)) throw collision(cls, [...segments, cls.jobType], null);
    node.leaves.set(cls.jobType, cls);
  }
}

function leafInfo(branch: readonly string[], cls: JobClass): LeafInfo {
  return {
    path: [...branch, cls.jobType].join("/"),
    jobType: cls.jobType,
    name: displayNameOf(cls),
    description: cls.description ?? "",
  };
}

function collision(cls: JobClass, path: string[], leaf: JobClass | null): InvalidConfigError {
  const p = path.join("/");
  return new InvalidConfigError(
    leaf
      ? `${cls.name} (${cls.jobType}): branch '${cls.branch}' passes through '${p}', which is job type '${leaf.jobType}' (${leaf.name})`
      : `${cls.name} (${cls.jobType}): '${p}' would be both this job type and a branch another job class declares`,
  );
}
