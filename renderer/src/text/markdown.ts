/**
 * A small, safe Markdown subset for task guidelines: headings, paragraphs, bullet and numbered lists,
 * fenced code, block quotes, and inline bold, italic, code and links. It yields a tree of plain
 * strings, never HTML: the view renders text nodes, so nothing a guideline says can inject markup.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'strong' | 'em'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'link'; href: string; children: Inline[] };

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; children: Inline[] }
  | { kind: 'rule' };

/** Only these link targets are kept; anything else (javascript:, data:, relative) stays plain text. */
const SAFE_HREF = /^(https?:\/\/|mailto:)/i;

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: 'paragraph', children: parseInline(paragraph.join(' ')) });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed.startsWith('```')) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith('```'); i++) code.push(lines[i]);
      blocks.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    if (trimmed === '') {
      flush();
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(trimmed);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', level: heading[1].length as 1 | 2 | 3 | 4, children: parseInline(heading[2].replace(/\s+#+$/, '')) });
      continue;
    }
    if (/^(-{3,}|\*{3,}|_{3,})$/.test(trimmed)) {
      flush();
      blocks.push({ kind: 'rule' });
      continue;
    }
    if (trimmed.startsWith('>')) {
      flush();
      const quoted: string[] = [];
      for (; i < lines.length && lines[i].trim().startsWith('>'); i++) quoted.push(lines[i].trim().replace(/^>\s?/, ''));
      i--;
      blocks.push({ kind: 'quote', children: parseInline(quoted.join(' ')) });
      continue;
    }
    const bullet = /^([-*+]|\d+[.)])\s+/;
    if (bullet.test(trimmed)) {
      flush();
      const ordered = /^\d/.test(trimmed);
      const items: Inline[][] = [];
      for (; i < lines.length && bullet.test(lines[i].trim()) && /^\d/.test(lines[i].trim()) === ordered; i++) {
        items.push(parseInline(lines[i].trim().replace(bullet, '')));
      }
      i--;
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    paragraph.push(trimmed);
  }
  flush();
  return blocks;
}

/** Inline spans: `code`, **bold**, *italic* / _italic_ (not inside a word: snake_case stays), [text](https://…); everything else is text. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const push = (node: Inline) => {
    if (plain) out.push({ kind: 'text', text: plain });
    plain = '';
    out.push(node);
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^`([^`]+)`/.exec(rest))) {
      push({ kind: 'code', text: m[1] });
    } else if ((m = /^\*\*(.+?)\*\*/.exec(rest)) || (m = /^__(.+?)__/.exec(rest))) {
      push({ kind: 'strong', children: parseInline(m[1]) });
    } else if ((m = /^\*([^*\s][^*]*?)\*/.exec(rest)) || (!/[A-Za-z0-9]/.test(text[i - 1] ?? '') && (m = /^_([^_\s][^_]*?)_(?![A-Za-z0-9])/.exec(rest)))) {
      push({ kind: 'em', children: parseInline(m[1]) });
    } else if ((m = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(rest)) && SAFE_HREF.test(m[2])) {
      push({ kind: 'link', href: m[2], children: parseInline(m[1]) });
    } else {
      plain += text[i];
      i++;
      continue;
    }
    i += m[0].length;
  }
  if (plain) out.push({ kind: 'text', text: plain });
  return out;
}
