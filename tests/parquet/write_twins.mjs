// Writes flow-log objects as text and, from the same records, as Parquet with two independent
// writers (DuckDB, and Arrow's Rust writer through parquet-wasm) in many variants: every codec we
// read, data pages v1 and v2, dictionary and plain values (with the dictionary falling back to
// plain in the middle of a chunk), DELTA encodings, several row groups, NULL and "-" in every
// column, every field of versions 2 to 11, custom column orders, other integer widths. Then it
// checks with DuckDB that a corpus written by our own writer (`vpcflow-digest generate --format
// parquet`) holds the same records as its text twin.
//
//   node write_twins.mjs OUT_DIR VPCFLOW_DIGEST_BIN
//
// OUT_DIR/<variant>/AWSLogs/... then holds one tree per variant; OUT_DIR/text holds the text
// twins. tests/parquet/parquet_writers_test.cpp digests each tree and compares it with the text.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const [outDir, digestBin] = process.argv.slice(2);
if (!outDir || !digestBin) {
  console.error('usage: node write_twins.mjs OUT_DIR VPCFLOW_DIGEST_BIN');
  process.exit(2);
}

let duckdb, arrow, parquet;
try {
  duckdb = await import('@duckdb/node-api');
  arrow = await import('apache-arrow');
  parquet = await import('parquet-wasm');
} catch (e) {
  console.error(`write_twins: the npm packages are missing (${e.message}); run ` +
                '`npm ci --prefix tests/parquet` or `VPCFLOW_WITH_NPM=1 scripts/bootstrap.sh`');
  process.exit(1);
}

// ---- Records ----

// Every field AWS documents, versions 2 to 11 (src/flowlog/format.cpp), in its order.
const ALL_FIELDS = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport',
  'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status', 'vpc-id', 'subnet-id',
  'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr', 'region', 'az-id',
  'sublocation-type', 'sublocation-id', 'pkt-src-aws-service', 'pkt-dst-aws-service',
  'flow-direction', 'traffic-path', 'resource-type', 'tgw-id', 'tgw-attachment-id',
  'tgw-src-vpc-account-id', 'tgw-dst-vpc-account-id', 'tgw-src-vpc-id', 'tgw-dst-vpc-id',
  'tgw-src-subnet-id', 'tgw-dst-subnet-id', 'tgw-src-eni', 'tgw-dst-eni', 'tgw-src-az-id',
  'tgw-dst-az-id', 'tgw-pair-attachment-id', 'packets-lost-no-route', 'packets-lost-blackhole',
  'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired', 'ecs-cluster-arn', 'ecs-cluster-name',
  'ecs-container-instance-arn', 'ecs-container-instance-id', 'ecs-container-id',
  'ecs-second-container-id', 'ecs-service-name', 'ecs-task-definition-arn', 'ecs-task-arn',
  'ecs-task-id', 'reject-reason', 'resource-id', 'encryption-status', 'instance-tag',
  'instance-tag-2', 'interface-tag', 'interface-tag-2', 'asg-tag', 'asg-tag-2', 'interface-type',
  'next-hop-interface-id', 'next-hop-subnet-id', 'next-hop-az-id', 'next-hop-vpc-id',
  'next-hop-interface-type',
];
const DEFAULT_FIELDS = ALL_FIELDS.slice(0, 14);
// AWS's Parquet types (FLOWLOGS.md); the rest are strings.
const INT32 = new Set(['version', 'srcport', 'dstport', 'protocol', 'tcp-flags', 'traffic-path',
                       'encryption-status']);
const INT64 = new Set(['packets', 'bytes', 'start', 'end', 'packets-lost-no-route',
                       'packets-lost-blackhole', 'packets-lost-mtu-exceeded',
                       'packets-lost-ttl-expired']);
const T0 = 1546300800;  // 2019-01-01T00:00:00Z

// mulberry32: the same records on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRecords(fields, count, seed, hosts) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (xs) => xs[int(xs.length)];
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const v4 = () => `10.${int(4)}.${int(hosts / 100 + 1)}.${int(256)}`;
  const v6 = () => {
    const g = [0x2001, 0xdb8, int(65536), 0, 0, 0, 0, int(65536)];
    const full = g.map((x) => x.toString(16).padStart(4, '0')).join(':');
    const short = `2001:db8:${g[2].toString(16)}::${g[7].toString(16)}`;
    return pick([short, short, full, short.toUpperCase()]);
  };
  const versionOf = (i) => (i < 14 ? 2 : i < 21 ? 3 : i < 25 ? 4 : i < 29 ? 5 : i < 47 ? 6 :
                            i < 57 ? 7 : i === 57 ? 8 : i === 58 ? 9 : i === 59 ? 10 : 11);
  const version = Math.max(...fields.map((f) => versionOf(ALL_FIELDS.indexOf(f))));
  const records = [];
  for (let i = 0; i < count; ++i) {
    const status = int(50) === 0 ? pick(['NODATA', 'SKIPDATA']) : 'OK';
    const family6 = int(6) === 0;
    const start = T0 - 300 + int(3900);
    const end = start + int(70);
    const value = {
      'version': String(version),
      'account-id': pick(['123456789012', '210987654321', '111122223333']),
      'interface-id': `eni-${hex(17)}`.slice(0, 4 + 4 + int(14)),
      'srcaddr': family6 ? v6() : v4(),
      'dstaddr': family6 ? v6() : v4(),
      'srcport': String(pick([443, 80, 53, 22, 32768 + int(32768)])),
      'dstport': String(pick([443, 80, 53, 3389, 32768 + int(32768)])),
      'protocol': String(family6 ? pick([6, 17, 58]) : pick([6, 6, 17, 1])),
      'packets': String(1 + int(1000)),
      'bytes': String(40 + int(1500000)),
      'start': String(int(40) === 0 ? start * 1000 : start),  // some in milliseconds
      'end': String(int(40) === 0 ? end * 1000 : end),
      'action': pick(['ACCEPT', 'ACCEPT', 'REJECT']),
      'log-status': status,
      'tcp-flags': String(pick([2, 18, 19, 3])),
      'type': family6 ? 'IPv6' : 'IPv4',
      'traffic-path': String(1 + int(8)),
      'flow-direction': pick(['ingress', 'egress']),
      'region': 'us-east-1',
      'az-id': `use1-az${1 + int(6)}`,
      'sublocation-type': pick(['wavelength', 'outpost', 'localzone']),
      'pkt-src-aws-service': pick(['S3', 'DYNAMODB', 'EC2', 'AMAZON']),
      'pkt-dst-aws-service': pick(['S3', 'ROUTE53', 'CLOUDFRONT']),
      'resource-type': 'TransitGateway',
      'reject-reason': pick(['BPA', 'EC']),
      'encryption-status': String(int(4)),
      'interface-type': pick(['interface', 'nat_gateway', 'lambda']),
      'next-hop-interface-type': pick(['interface', 'transit_gateway']),
    };
    const rec = {};
    for (const f of fields) {
      let v = value[f];
      if (v === undefined) {
        if (f.startsWith('packets-lost')) v = String(int(5));
        else if (f.endsWith('-arn')) v = `arn:aws:ecs:us-east-1:123456789012:${f.slice(4, -4)}/${hex(8)}`;
        else if (f.includes('tag')) v = pick(['web', 'db', 'cache', 'batch']);
        else if (f.endsWith('az-id')) v = `use1-az${1 + int(6)}`;
        else if (f.endsWith('account-id')) v = pick(['123456789012', '210987654321']);
        else v = `${f.split('-').pop()}-${hex(8)}`;
      }
      // Every column is absent somewhere ('-' in text; NULL or "-" in Parquet).
      if (int(23) === 0) v = '-';
      if (status !== 'OK' && ['srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets',
                              'bytes', 'action', 'pkt-srcaddr', 'pkt-dstaddr'].includes(f)) {
        v = '-';
      }
      rec[f] = v;
    }
    if (rec['pkt-srcaddr'] !== undefined && rec['pkt-srcaddr'] !== '-' && rec.srcaddr) {
      rec['pkt-srcaddr'] = rec.srcaddr;
    }
    records.push(rec);
  }
  return records;
}

function shuffled(xs, seed) {
  const r = rng(seed);
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; --i) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// The objects: name (in the key), fields in the flow log's order, records.
const OBJECTS = [
  { minute: 5, name: 'all-fields', fields: ALL_FIELDS, records: makeRecords(ALL_FIELDS, 700, 1, 300) },
  { minute: 10, name: 'default', fields: DEFAULT_FIELDS,
    records: makeRecords(DEFAULT_FIELDS, 4000, 2, 20000) },
];
{
  const custom = shuffled(DEFAULT_FIELDS.filter((f) => f !== 'version').concat(
    ['vpc-id', 'subnet-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'flow-direction',
     'traffic-path', 'pkt-dst-aws-service']), 3);
  OBJECTS.push({ minute: 15, name: 'custom-order', fields: custom,
                 records: makeRecords(custom, 1500, 4, 2000) });
  const tgw = ['version', 'resource-type', 'account-id', 'tgw-id', 'tgw-attachment-id',
               'tgw-src-vpc-account-id', 'tgw-dst-vpc-account-id', 'tgw-src-vpc-id',
               'tgw-dst-vpc-id', 'tgw-src-subnet-id', 'tgw-dst-subnet-id', 'tgw-src-eni',
               'tgw-dst-eni', 'tgw-src-az-id', 'tgw-dst-az-id', 'tgw-pair-attachment-id',
               'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start',
               'end', 'log-status', 'type', 'packets-lost-no-route', 'packets-lost-blackhole',
               'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired', 'tcp-flags', 'region',
               'flow-direction', 'pkt-src-aws-service', 'pkt-dst-aws-service'];
  OBJECTS.push({ minute: 20, name: 'transit-gateway', fields: tgw,
                 records: makeRecords(tgw, 500, 5, 500) });
}

function keyOf(obj, ext) {
  const mm = String(obj.minute).padStart(2, '0');
  return 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/' +
         `123456789012_vpcflowlogs_us-east-1_fl-${obj.name.replaceAll('-', '')}_20190101T00${mm}Z_0000abcd${ext}`;
}

function put(variant, key, bytes) {
  const path = join(outDir, variant, key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

// ---- Columns ----

const columnName = (f) => f.replaceAll('-', '_');

// types: field -> 'int32' | 'int64' | 'uint32' | 'string'; dashes: keep "-" in string columns.
// An INT32 time cannot hold milliseconds: those are written in seconds (the same instant, and
// the digest reads both alike).
function columnsOf(obj, { types = {}, dashes = false } = {}) {
  return obj.fields.map((f) => {
    const type = types[f] ?? (INT32.has(f) ? 'int32' : INT64.has(f) ? 'int64' : 'string');
    const values = obj.records.map((rec) => {
      const v = rec[f];
      if (v === '-') return type === 'string' && dashes ? '-' : null;
      if (type === 'string') return v;
      const n = BigInt(v);
      return type === 'int32' && n > 2147483647n ? n / 1000n : n;
    });
    return { field: f, name: columnName(f), type, values };
  });
}

// ---- DuckDB ----

const SQL_TYPES = { int32: 'INTEGER', int64: 'BIGINT', uint32: 'UINTEGER', string: 'VARCHAR' };

async function writeDuckDb(connection, columns, path, options) {
  await connection.run('DROP TABLE IF EXISTS t');
  await connection.run('CREATE TABLE t (' +
    columns.map((c) => `"${c.name}" ${SQL_TYPES[c.type]}`).join(', ') + ')');
  const appender = await connection.createAppender('t');
  const rows = columns[0].values.length;
  for (let i = 0; i < rows; ++i) {
    for (const c of columns) {
      const v = c.values[i];
      if (v === null) appender.appendNull();
      else if (c.type === 'string') appender.appendVarchar(v);
      else if (c.type === 'int32') appender.appendInteger(Number(v));
      else if (c.type === 'uint32') appender.appendUInteger(Number(v));
      else appender.appendBigInt(v);
    }
    appender.endRow();
  }
  appender.closeSync();
  const order = options.order ?? columns.map((c) => c.name);
  await connection.run(`COPY (SELECT ${order.map((n) => `"${n}"`).join(', ')} FROM t) TO '${path}' ` +
                       `(FORMAT parquet, ${options.copy})`);
}

// ---- parquet-wasm (arrow-rs) ----

function arrowTable(columns) {
  const vectors = {};
  for (const c of columns) {
    if (c.type === 'string') {
      vectors[c.name] = arrow.vectorFromArray(c.values, new arrow.Utf8());
    } else if (c.type === 'int32' || c.type === 'uint32') {
      vectors[c.name] = arrow.vectorFromArray(c.values.map((v) => (v === null ? null : Number(v))),
                                              c.type === 'int32' ? new arrow.Int32() : new arrow.Uint32());
    } else {
      vectors[c.name] = arrow.vectorFromArray(c.values, new arrow.Int64());
    }
  }
  return new arrow.Table(vectors);
}

function writeArrow(columns, build) {
  const table = parquet.Table.fromIPCStream(arrow.tableToIPC(arrowTable(columns), 'stream'));
  let props = new parquet.WriterPropertiesBuilder().setMaxRowGroupSize(900)
    .setCreatedBy('parquet-wasm (vpcflow tests)');
  props = build(props, columns);
  return parquet.writeParquet(table, props.build());
}

// ---- The variants ----

const C = parquet.Compression;
const E = parquet.Encoding;
const W = parquet.WriterVersion;
const stringColumns = (cols) => cols.filter((c) => c.type === 'string').map((c) => c.name);
const intColumns = (cols) => cols.filter((c) => c.type !== 'string').map((c) => c.name);

const ARROW_VARIANTS = {
  'arrow-v1-plain-uncompressed': (p) => p.setCompression(C.UNCOMPRESSED).setDictionaryEnabled(false)
    .setWriterVersion(W.V1),
  // A small dictionary limit: chunks start dictionary-encoded, then fall back to PLAIN.
  'arrow-v1-dictionary-fallback-gzip': (p) => p.setCompression(C.GZIP).setDictionaryEnabled(true)
    .setDictionaryPageSizeLimit(512).setDataPageSizeLimit(2048).setWriterVersion(W.V1),
  'arrow-v2-dictionary-fallback-snappy': (p) => p.setCompression(C.SNAPPY)
    .setDictionaryEnabled(true).setDictionaryPageSizeLimit(1024).setDataPageSizeLimit(4096)
    .setWriterVersion(W.V2),
  'arrow-v2-delta-byte-array-zstd': (p, cols) => {
    p = p.setCompression(C.ZSTD).setDictionaryEnabled(false).setWriterVersion(W.V2);
    for (const n of intColumns(cols)) p = p.setColumnEncoding(n, E.DELTA_BINARY_PACKED);
    for (const n of stringColumns(cols)) p = p.setColumnEncoding(n, E.DELTA_BYTE_ARRAY);
    return p;
  },
  'arrow-v1-delta-length-gzip': (p, cols) => {
    p = p.setCompression(C.GZIP).setDictionaryEnabled(false).setWriterVersion(W.V1)
      .setDataPageSizeLimit(1024);
    for (const n of intColumns(cols)) p = p.setColumnEncoding(n, E.DELTA_BINARY_PACKED);
    for (const n of stringColumns(cols)) p = p.setColumnEncoding(n, E.DELTA_LENGTH_BYTE_ARRAY);
    return p;
  },
  'arrow-v2-byte-stream-split-uncompressed': (p, cols) => {
    p = p.setCompression(C.UNCOMPRESSED).setDictionaryEnabled(false).setWriterVersion(W.V2);
    for (const n of intColumns(cols)) p = p.setColumnEncoding(n, E.BYTE_STREAM_SPLIT);
    return p;
  },
};

const DUCKDB_VARIANTS = {
  'duckdb-v1-uncompressed': { copy: "COMPRESSION uncompressed, ROW_GROUP_SIZE 1000, PARQUET_VERSION V1" },
  'duckdb-v1-snappy': { copy: "COMPRESSION snappy, ROW_GROUP_SIZE 1000, PARQUET_VERSION V1" },
  'duckdb-v1-gzip': { copy: "COMPRESSION gzip, ROW_GROUP_SIZE 1000, PARQUET_VERSION V1" },
  'duckdb-v1-zstd': { copy: "COMPRESSION zstd, ROW_GROUP_SIZE 1000, PARQUET_VERSION V1" },
  'duckdb-v2-snappy': { copy: "COMPRESSION snappy, ROW_GROUP_SIZE 1000, PARQUET_VERSION V2" },
  'duckdb-v2-gzip': { copy: "COMPRESSION gzip, ROW_GROUP_SIZE 1000, PARQUET_VERSION V2" },
  'duckdb-v2-zstd': { copy: "COMPRESSION zstd, ROW_GROUP_SIZE 1000, PARQUET_VERSION V2" },
  // Strings keep '-' (AWS's Avro default) instead of NULL.
  'duckdb-dash-strings': { copy: "COMPRESSION gzip, PARQUET_VERSION V1", dashes: true },
  // Other integer widths: Athena's DDL (protocol and ports BIGINT), INT32 times, unsigned counts.
  'duckdb-other-int-types': {
    copy: "COMPRESSION snappy, ROW_GROUP_SIZE 700, PARQUET_VERSION V2",
    types: { protocol: 'int64', srcport: 'int64', dstport: 'int64', start: 'int32', end: 'int32',
             packets: 'uint32' },
  },
  // Columns in another order than the flow log's.
  'duckdb-reversed-columns': { copy: "COMPRESSION zstd, PARQUET_VERSION V1", reverse: true },
};

mkdirSync(outDir, { recursive: true });
for (const entry of readdirSync(outDir)) rmSync(join(outDir, entry), { recursive: true, force: true });

for (const obj of OBJECTS) {
  const text = [obj.fields.join(' '), ...obj.records.map((r) => obj.fields.map((f) => r[f]).join(' '))]
    .join('\n') + '\n';
  put('text', keyOf(obj, '.log'), text);
}

const instance = await duckdb.DuckDBInstance.create(':memory:');
const connection = await instance.connect();
let written = 0;
for (const [variant, options] of Object.entries(DUCKDB_VARIANTS)) {
  for (const obj of OBJECTS) {
    const columns = columnsOf(obj, { types: options.types, dashes: options.dashes });
    const path = join(outDir, variant, keyOf(obj, '.log.parquet'));
    mkdirSync(dirname(path), { recursive: true });
    const order = options.reverse ? columns.map((c) => c.name).reverse() : undefined;
    await writeDuckDb(connection, columns, path, { copy: options.copy, order });
    ++written;
  }
}
for (const [variant, build] of Object.entries(ARROW_VARIANTS)) {
  for (const obj of OBJECTS) {
    put(variant, keyOf(obj, '.log.parquet'), writeArrow(columnsOf(obj), build));
    ++written;
  }
}

// ---- Our own writer, read by DuckDB ----
// The same generated corpus as text and as Parquet: DuckDB must see the same records in both.
const own = { text: join(outDir, 'own-text'), parquet: join(outDir, 'own-parquet') };
for (const [format, dir] of Object.entries(own)) {
  execFileSync(digestBin, ['generate', '--out', dir, '--start', '2019-01-01T00:00:00Z',
                           '--stop', '2019-01-01T00:30:00Z', '--size-mb', '2', '--accounts', '2',
                           '--hosts', '200', '--seed', '7', '--format', format,
                           '--parquet-codec', 'snappy', '--threads', '1'], { stdio: 'inherit' });
}
function files(dir, ext) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...files(path, ext));
    else if (path.endsWith(ext)) out.push(path);
  }
  return out.sort();
}
const textFiles = files(own.text, '.log.gz');
const parquetFiles = files(own.parquet, '.log.parquet');
if (textFiles.length === 0 || textFiles.length !== parquetFiles.length) {
  console.error(`write_twins: ${textFiles.length} text and ${parquetFiles.length} Parquet objects`);
  process.exit(1);
}
// Per object: rows, and sums that cover strings (lengths), numbers and NULLs of the columns
// every format has.
const summary = `count(*) AS n, count(srcaddr) AS src, sum(length(srcaddr)) AS src_len,
                 sum(srcport) AS sport, sum(bytes) AS b, sum("end") AS e, count(action) AS a`;
let mismatches = 0;
for (let i = 0; i < textFiles.length; ++i) {
  const fromParquet = await connection.runAndReadAll(
    `SELECT ${summary} FROM read_parquet('${parquetFiles[i]}')`);
  const fromText = await connection.runAndReadAll(
    `SELECT ${summary} FROM read_csv('${textFiles[i]}', delim=' ', header=true, nullstr='-')`);
  const a = JSON.stringify(fromParquet.getRowObjectsJson());
  const b = JSON.stringify(fromText.getRowObjectsJson());
  if (a !== b) {
    console.error(`write_twins: DuckDB reads ${parquetFiles[i]} as ${a}, its text twin as ${b}`);
    ++mismatches;
  }
}
if (mismatches > 0) process.exit(1);
console.log(`write_twins: ${written} Parquet objects in ${Object.keys(DUCKDB_VARIANTS).length +
  Object.keys(ARROW_VARIANTS).length} variants; DuckDB read our writer's ` +
  `${parquetFiles.length} objects as their text twins`);
