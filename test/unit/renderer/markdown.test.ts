import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown } from '../../../renderer/src/text/markdown';

describe('guidelines Markdown subset', () => {
  it('parses headings, lists, paragraphs, quotes, rules and fenced code', () => {
    const blocks = parseMarkdown('# Title\n\nSome *text*\ncontinued\n\n- a\n- b\n1. one\n2. two\n> quoted\n---\n```\n<b>raw</b>\n```');
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'list', 'list', 'quote', 'rule', 'code']);
    expect(blocks[1]).toEqual({ kind: 'paragraph', children: [{ kind: 'text', text: 'Some ' }, { kind: 'em', children: [{ kind: 'text', text: 'text' }] }, { kind: 'text', text: ' continued' }] });
    expect(blocks[2]).toMatchObject({ kind: 'list', ordered: false, items: [[{ text: 'a' }], [{ text: 'b' }]] });
    expect(blocks[3]).toMatchObject({ kind: 'list', ordered: true });
    expect(blocks[6]).toEqual({ kind: 'code', text: '<b>raw</b>' });
  });

  it('keeps only http(s) and mailto links; other targets and HTML stay text', () => {
    expect(parseInline('[a](https://x.org)')).toEqual([{ kind: 'link', href: 'https://x.org', children: [{ kind: 'text', text: 'a' }] }]);
    expect(parseInline('[a](javascript:alert(1))')).toEqual([{ kind: 'text', text: '[a](javascript:alert(1))' }]);
    expect(parseInline('[a](data:text/html,x)')).toEqual([{ kind: 'text', text: '[a](data:text/html,x)' }]);
    expect(parseInline('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });

  it('nests bold and italic, and leaves snake_case words alone', () => {
    expect(parseInline('**bold _it_**')).toEqual([
      { kind: 'strong', children: [{ kind: 'text', text: 'bold ' }, { kind: 'em', children: [{ kind: 'text', text: 'it' }] }] },
    ]);
    expect(parseInline('file_name_here and `a*b*c`')).toEqual([
      { kind: 'text', text: 'file_name_here and ' },
      { kind: 'code', text: 'a*b*c' },
    ]);
  });
});
