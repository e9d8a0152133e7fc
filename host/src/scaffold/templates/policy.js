// `{{name}}`: good when a dataset has at least `min_rows` rows.
//
// A dataslo policy in JavaScript, built into a Wasm component by
// componentize-js against wit/policy.wit (`dataslo test` builds it). It
// exports the contract's `check` interface as an object of three functions.
// WIT names become camelCase (`row-count` is `observation.rowCount`); u64
// and s64 (counts, timestamps in nanoseconds) are BigInt, so write `1n`.
// An error is thrown as `{tag, val}`: `invalid-config`, `missing-metadata`
// or `internal`, with a message.

const CONFIG_SCHEMA = JSON.stringify({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['min_rows'],
  properties: {
    min_rows: { type: 'integer', minimum: 0, description: 'fewest acceptable rows' },
  },
});

/** The config, strictly: a misspelt key is invalid config, not ignored. */
function parseConfig(text) {
  const invalid = (why) => ({ tag: 'invalid-config', val: `{{name}}: ${why}` });
  let config;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw invalid(`config is no JSON: ${e.message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalid('config must be an object');
  }
  for (const key of Object.keys(config)) {
    if (key !== 'min_rows') throw invalid(`unknown field \`${key}\`, expected \`min_rows\``);
  }
  if (!Number.isSafeInteger(config.min_rows) || config.min_rows < 0) {
    throw invalid('min_rows must be a whole number >= 0');
  }
  return { minRows: BigInt(config.min_rows) };
}

export const check = {
  describe() {
    return {
      name: '{{name}}',
      version: '0.1.0',
      description: 'Good when row_count >= min_rows. Emits the row count.',
      slis: ['min_rows'],
      configSchema: CONFIG_SCHEMA,
    };
  },

  validateConfig(config) {
    parseConfig(config);
  },

  // `now` is the evaluation's time (BigInt nanoseconds): read no clock.
  evaluate(config, observation, now) {
    const { minRows } = parseConfig(config);
    const rows = observation.rowCount;
    if (rows === undefined) throw { tag: 'missing-metadata', val: 'row_count' };
    return [
      {
        sli: 'min_rows',
        good: rows >= minRows ? 1n : 0n,
        total: 1n,
        value: Number(rows),
        detail: `${rows} rows, need ${minRows}`,
      },
    ];
  },
};
