/**
 * The documentation stays walkable: every relative link in README.md,
 * CONTRIBUTING.md and docs/*.md points to a file that exists (and, with a
 * `#fragment`, to a heading of it), and CONTRIBUTING.md's layout names every
 * module of src/lib. Both read the tree when the test runs, so a new module or
 * a new page is checked without editing this file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers.js';

/** The markdown files whose links are checked, relative to the repository. */
function documents(): string[] {
  const docs = path.join(REPO, 'docs');
  const pages = fs.existsSync(docs) ? fs.readdirSync(docs).filter((name) => name.endsWith('.md')) : [];
  return ['README.md', 'CONTRIBUTING.md', ...pages.sort().map((name) => `docs/${name}`)];
}

/** The lines of a markdown file outside fenced code blocks, with inline code blanked out. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, index) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (!fenced) out.push({ line: index + 1, text: raw.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) });
  });
  return out;
}

/** The anchors GitHub gives the headings of a markdown file (lower case, punctuation dropped, spaces to hyphens, repeats numbered). */
function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const raw of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const words = heading[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = words
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every inline link or image target of a markdown file that is not a URL, with its line. */
function relativeLinks(text: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { line, text: prose } of proseLines(text)) {
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1];
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ line, target });
    }
  }
  return links;
}

test('every relative link in the documentation points to an existing file and heading', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const document of documents()) {
    const file = path.join(REPO, document);
    if (!fs.existsSync(file)) {
      problems.push(`${document}: the file is missing`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    for (const { line, target } of relativeLinks(text)) {
      checked++;
      const [filePart, fragment] = target.split('#', 2) as [string, string | undefined];
      const resolved = filePart === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(filePart));
      const where = `${document}:${line}: link "${target}"`;
      if (!fs.existsSync(resolved)) {
        problems.push(`${where} points to ${path.relative(REPO, resolved)}, which does not exist`);
        continue;
      }
      if (fragment !== undefined && resolved.endsWith('.md') && !headingAnchors(fs.readFileSync(resolved, 'utf8')).has(fragment)) {
        problems.push(`${where}: ${path.relative(REPO, resolved)} has no heading with the anchor "#${fragment}"`);
      }
    }
  }
  assert.ok(checked > 0, 'the documentation holds relative links');
  assert.deepEqual(problems, [], `broken links:\n  ${problems.join('\n  ')}`);
});

/** Every .ts file under a folder, relative to it, with forward slashes. */
function typeScriptFiles(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => name.split(path.sep).join('/'))
    .sort();
}

test("CONTRIBUTING.md's layout names every module of src/lib", () => {
  const lib = path.join(REPO, 'src', 'lib');
  const contributing = fs.readFileSync(path.join(REPO, 'CONTRIBUTING.md'), 'utf8');
  const modules = typeScriptFiles(lib);
  assert.ok(modules.length > 0, `no module found under ${lib}`);
  // A module is named by its path relative to src/lib, as a whole word (`api/app.ts`, not a tail of another path).
  const named = (module: string): boolean =>
    new RegExp(`(^|[^\\w/.-])${module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/-])`, 'm').test(contributing);
  const missing = modules.filter((module) => !named(module));
  assert.deepEqual(
    missing,
    [],
    `CONTRIBUTING.md does not name these modules of src/lib (add a line each to its layout):\n  ${missing.join('\n  ')}`,
  );
});
