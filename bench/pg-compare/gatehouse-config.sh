# Sourced by run.sh and ab-cpu.sh: the gateway's configuration for the benchmark.
#   gatehouse_config DIR API_PORT PG_PORT TARGET_PORT DURABILITY
# writes DIR/gatehouse.yaml and DIR/policies/ (data in DIR/data); the target's password comes from
# the env BENCH_DB_PASSWORD of the serve process.
gatehouse_config() {
  local dir=$1 api=$2 pg=$3 target=$4 durability=$5
  mkdir -p "$dir/policies"
  cp "$(dirname "${BASH_SOURCE[0]}")/bench-policy.yaml" "$dir/policies/"
  mkdir -p "$dir/masking"
  # columns-only: a column rule for the email column and no content detection (bench-cols), to hold
  # content detection (pii, bench-pii) against, as MaskingBenchmark does per row.
  cat > "$dir/masking/bench-masking.yaml" <<'MASK'
profiles:
  columns-only:
    extends: none
    columns:
      - {connection: "*", table: "*", column: email, style: partial}
MASK
  cat > "$dir/gatehouse.yaml" <<CFG
server:
  data_dir: $dir/data
  api: { host: 127.0.0.1, port: $api }
  # plaintext only so that the gatehouse-plain row can measure TLS's share; TLS stays the default
  postgres: { host: 127.0.0.1, port: $pg, plaintext: true }
  ssh: { enabled: false }
identity:
  users:
    - { subject: admin, kind: human, groups: [admins], role: admin }
    - { subject: bench, kind: service, groups: [bench], role: user }
    - { subject: bench-pii, kind: service, groups: [bench-pii], role: user }
    - { subject: bench-cols, kind: service, groups: [bench-cols], role: user }
connections:
  - name: bench
    type: postgres
    host: 127.0.0.1
    port: $target
    database: bench
    username: bench
    password: \${env:BENCH_DB_PASSWORD}
    tls: { mode: disable }
    # one principal opens pgbench's 32 clients and the 1,000 idle connections: no per-principal cap
    max_sessions_per_principal: 0
policy:
  files: [policies/*.yaml]
masking:
  files: [masking/*.yaml]
audit:
  durability: $durability
CFG
}
