/**
 * Readable names for ImageNet-style folder names.
 *
 * ImageNet folders are WordNet ids (`n01440764`); a class list maps them to words a prompt
 * can use (`tench`). Two formats are understood:
 * - text, one class per line: `n01440764 tench, Tinca tinca` (LOC_synset_mapping.txt,
 *   words.txt). The readable name is the first comma-separated synonym.
 * - JSON: `{"n01440764": "tench"}`, or Keras' `imagenet_class_index.json`
 *   `{"0": ["n01440764", "tench"]}`.
 */
import * as fs from 'fs';

/** File names looked for in a dataset root when no class list is given. */
export const CLASS_LIST_FILES = ['classes.txt', 'LOC_synset_mapping.txt', 'words.txt', 'class_names.json', 'imagenet_class_index.json'];

/** Parse a class list file into folder name → readable name. Throws naming the file and line for malformed input. */
export function readClassList(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read class list (${(e as Error).message})`);
  }
  const map = new Map<string, string>();
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: class list is not valid JSON (${(e as Error).message})`);
    }
    for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
      if (typeof value === 'string') map.set(key, readable(value));
      else if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') map.set(value[0], readable(value[1]));
      else throw new Error(`${file}: class list entry "${key}" should be a name or [folder, name], got ${JSON.stringify(value)}`);
    }
    return map;
  }
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(\S+)\s+(.+)$/.exec(trimmed);
    if (!m) throw new Error(`${file}:${i + 1}: expected "<folder> <name>", got "${trimmed}"`);
    map.set(m[1]!, readable(m[2]!));
  });
  return map;
}

/** First synonym, underscores as spaces, lower case: `"Tinca_tinca, tench"` → `"tinca tinca"`. */
function readable(name: string): string {
  return name.split(',')[0]!.replace(/_/g, ' ').trim().toLowerCase();
}
