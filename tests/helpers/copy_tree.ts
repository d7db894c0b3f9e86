// Recursive directory copy for tests (fixtures, a checkout): writable copies of regular files.

/** Recursively copies `src` into `dst` with writable modes (fixtures are read-only). */
export function copyTree(src: string, dst: string): void {
  Deno.mkdirSync(dst, { recursive: true });
  for (const e of Deno.readDirSync(src)) {
    if (e.isDirectory) copyTree(`${src}/${e.name}`, `${dst}/${e.name}`);
    else if (e.isFile) {
      Deno.writeFileSync(`${dst}/${e.name}`, Deno.readFileSync(`${src}/${e.name}`));
    }
  }
}
