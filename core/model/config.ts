import { z } from 'zod';

/** The frozen backbone's architecture, in the keys of the fixtures' `backbone.json`. */
export const vitConfigSchema = z.object({
  architecture: z.literal('vit').default('vit'),
  imageSize: z.number().int().positive(),
  patchSize: z.number().int().positive(),
  embedDim: z.number().int().positive(),
  depth: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  mlpRatio: z.number().positive().default(4),
  qkvBias: z.boolean().default(true),
  layerNormEps: z.number().positive().default(1e-6),
  gelu: z.literal('erf').default('erf'),
  classToken: z.literal(true).default(true),
  pool: z.enum(['token', 'avg']).default('token'),
  finalNorm: z.boolean().default(true),
});
export type ViTConfig = z.infer<typeof vitConfigSchema>;

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

/** Tokens including CLS: 1 + (imageSize / patchSize)². */
export function numTokens(config: Pick<ViTConfig, 'imageSize' | 'patchSize'>): number {
  const grid = config.imageSize / config.patchSize;
  return 1 + grid * grid;
}

export function mlpHiddenDim(config: Pick<ViTConfig, 'embedDim' | 'mlpRatio'>): number {
  return Math.round(config.embedDim * config.mlpRatio);
}

/** Checks the relations between fields that the schema alone cannot express. */
export function validateViTConfig(config: ViTConfig, source: string): ViTConfig {
  if (config.imageSize % config.patchSize !== 0) {
    throw new ModelConfigError(`${source}: imageSize ${config.imageSize} is not a multiple of patchSize ${config.patchSize}`);
  }
  if (config.embedDim % config.numHeads !== 0) {
    throw new ModelConfigError(`${source}: embedDim ${config.embedDim} is not divisible by numHeads ${config.numHeads}`);
  }
  return config;
}

/**
 * Parses a config JSON: MedTune's own keys (as in backbone.json) or a Hugging Face ViT
 * `config.json` (hidden_size, num_attention_heads, ...). Returns null when it is neither.
 */
export function parseViTConfigJson(json: unknown, source: string): ViTConfig | null {
  if (typeof json !== 'object' || json === null) return null;
  const obj = json as Record<string, unknown>;
  let candidate: Record<string, unknown>;
  if ('embedDim' in obj) {
    candidate = obj;
  } else if ('hidden_size' in obj && 'num_attention_heads' in obj) {
    const hidden = Number(obj.hidden_size);
    candidate = {
      imageSize: obj.image_size,
      patchSize: obj.patch_size,
      embedDim: hidden,
      depth: obj.num_hidden_layers,
      numHeads: obj.num_attention_heads,
      mlpRatio: obj.intermediate_size !== undefined ? Number(obj.intermediate_size) / hidden : 4,
      qkvBias: obj.qkv_bias ?? true,
      layerNormEps: obj.layer_norm_eps ?? 1e-12,
    };
  } else {
    return null;
  }
  const parsed = vitConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelConfigError(`${source}: invalid backbone config at "${issue.path.join('.')}": ${issue.message}`);
  }
  return validateViTConfig(parsed.data, source);
}

/**
 * Head counts of the published ViT sizes, by width (timm's ViT-Ti/S/B/L/H/g). The weights do not show
 * the head count, so a width not listed here needs an explicit one.
 */
export const KNOWN_VIT_HEADS: Readonly<Record<number, { heads: number; name: string }>> = {
  192: { heads: 3, name: 'ViT-Ti' },
  384: { heads: 6, name: 'ViT-S' },
  768: { heads: 12, name: 'ViT-B' },
  1024: { heads: 16, name: 'ViT-L' },
  1280: { heads: 16, name: 'ViT-H' },
  1408: { heads: 16, name: 'ViT-g' },
};

/**
 * Infers a config from the timm-named tensor shapes. The head count is not visible in the shapes:
 * it is `numHeads` when given, else the head count of the published ViT of that width, else refused.
 * `headsFrom` says which.
 */
export function inferViTConfig(
  shapes: Map<string, number[]>,
  naming: 'timm' | 'hf',
  source: string,
  numHeads?: number,
): { config: ViTConfig; assumptions: string[]; headsFrom: string } {
  const need = (key: string): number[] => {
    const shape = shapes.get(key);
    if (!shape) throw new ModelConfigError(`${source}: cannot infer the config: missing "${key}"`);
    return shape;
  };
  const patch = need('patch_embed.proj.weight');
  const pos = need('pos_embed');
  const fc1 = need('blocks.0.mlp.fc1.weight');
  const embedDim = patch[0];
  const patchSize = patch[2];
  const grid = Math.round(Math.sqrt(pos[1] - 1));
  if (grid * grid !== pos[1] - 1) {
    throw new ModelConfigError(`${source}: pos_embed has ${pos[1]} tokens, which is not 1 + a square grid`);
  }
  let depth = 0;
  for (const key of shapes.keys()) {
    const m = /^blocks\.(\d+)\./.exec(key);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  const assumptions: string[] = [];
  let headsFrom: string;
  const known = KNOWN_VIT_HEADS[embedDim];
  if (numHeads !== undefined) {
    headsFrom = `given (--heads ${numHeads})`;
  } else if (known) {
    numHeads = known.heads;
    headsFrom = `the known architecture table (width ${embedDim} is timm's ${known.name}: ${known.heads} heads)`;
    assumptions.push(`numHeads ${numHeads} from ${headsFrom}`);
  } else {
    const widths = Object.entries(KNOWN_VIT_HEADS).map(([w, k]) => `${w} (${k.name})`).join(', ');
    throw new ModelConfigError(
      `${source}: cannot infer the head count for embedDim ${embedDim}: the weights do not store it and ${embedDim} is not a known ViT width (${widths}); ` +
        'give it with --heads <n> or put a backbone config JSON beside the weights',
    );
  }
  const layerNormEps = naming === 'hf' ? 1e-12 : 1e-6;
  assumptions.push(`layerNormEps ${layerNormEps} assumed (${naming} default)`);
  const config = vitConfigSchema.parse({
    imageSize: grid * patchSize,
    patchSize,
    embedDim,
    depth,
    numHeads,
    mlpRatio: fc1[0] / embedDim,
    qkvBias: shapes.has('blocks.0.attn.qkv.bias'),
    layerNormEps,
  });
  return { config: validateViTConfig(config, source), assumptions, headsFrom };
}
