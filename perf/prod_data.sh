# Sourced by perf/prod_bench.sh and perf/final_sync_bench.sh: the data of the
# production-profile runs (issue 15), generated with SQL on the source.
#
#   prod_generate CONNINFO SCALE [TABLES]
#       (re)creates, in the database CONNINFO names (which must exist and be empty
#       of these tables), at SCALE (1 = at least 3 GB of table data):
#
#   public.customers    1.5M x S rows of ~90 B (id PK, name, email UNIQUE, region,
#                       created_at); index on region
#   public.orders       5.5M x S rows of ~85 B (id PK, customer_id FK -> customers,
#                       status, amount numeric, created_at, note); indexes on
#                       customer_id and created_at
#   public.order_lines  9.5M x S rows of ~70 B (order_id FK -> orders, line, sku,
#                       qty, price; PK (order_id, line))
#   public.docs         the largest table, ~1.8 GB x S: 1.05M x S rows (id PK,
#                       customer_id FK -> customers, kind, created_at, updated_at,
#                       payload jsonb); indexes on customer_id and updated_at.
#                       payload: an object with an array of "items" objects (the
#                       same key names, words from a 48-word vocabulary, numbers)
#                       and a 32-char random hex sku per item: 600 B to 4 KB of
#                       jsonb; odd ids 3-9 items (~0.75-1.9 KB, stored inline),
#                       even ids 11-19 items (~2.3-4 KB, past the TOAST threshold,
#                       compressed by pglz ~1.85x: repeated keys and words compress,
#                       the hex does not; ~1.55x over all rows)
#       TABLES: "all" (default) or "sync" (customers and docs only, for the final
#       sync benchmark); then VACUUM (FREEZE, ANALYZE).
#
# Counts scale linearly (so --scale 2 is twice the rows of every table, with the
# same row shapes). Needs perf/lib.sh sourced first (perf_psql).

prod_counts() {  # prod_counts SCALE: sets N_CUST N_ORDERS N_LINES N_DOCS
  N_CUST=$(awk -v s="$1" 'BEGIN { n = int(1500000 * s); if (n < 1000) n = 1000; print n }')
  N_ORDERS=$(awk -v s="$1" 'BEGIN { n = int(5500000 * s); if (n < 1000) n = 1000; print n }')
  N_LINES=$(awk -v s="$1" 'BEGIN { n = int(9500000 * s); if (n < 1000) n = 1000; print n }')
  N_DOCS=$(awk -v s="$1" 'BEGIN { n = int(1050000 * s); if (n < 1000) n = 1000; print n }')
}

# SQL for docs rows lo..hi.
prod_docs_insert_sql() {
  local lo=$1 hi=$2
  cat <<EOF
INSERT INTO public.docs
SELECT g, 1 + (hashint8(g) & 2147483647) % $N_CUST,
       CASE WHEN g % 2 = 0 THEN 'history' ELSE 'profile' END,
       timestamptz '2021-01-01 00:00:00+00' + g * interval '13 seconds',
       timestamptz '2021-01-01 00:00:00+00' + g * interval '13 seconds',
       jsonb_build_object(
         'id', g,
         'kind', CASE WHEN g % 2 = 0 THEN 'order-history' ELSE 'customer-profile' END,
         'customer', jsonb_build_object('segment', w.v[1 + g % 48], 'region', w.v[1 + (g / 7) % 48], 'since', 2000 + g % 24),
         'items', (SELECT jsonb_agg(jsonb_build_object(
                     'sku', md5((g * 64 + j)::text),
                     'lot', substr(md5((g * 64 + j)::text || 'lot'), 1, 16),
                     'name', w.v[1 + (g + j) % 48] || ' ' || w.v[1 + (g * j) % 48] || ' ' || w.v[1 + (j * 7 + g / 3) % 48],
                     'qty', 1 + (g + j) % 9,
                     'price', ((g * 31 + j * 17) % 100000) / 100.0,
                     'status', (ARRAY['ordered', 'shipped', 'delivered', 'returned'])[1 + (g + j) % 4],
                     'warehouse', w.v[1 + (g + 3 * j) % 48] || '-' || (g + j) % 20)
                   ORDER BY j)
                   FROM generate_series(1, CASE WHEN g % 2 = 0 THEN 11 + (hashint8(g) & 2147483647) % 9
                                                ELSE 3 + (hashint8(g) & 2147483647) % 7 END) j))
FROM generate_series($lo::bigint, $hi::bigint) g,
     (SELECT ARRAY['alpha','bravo','charlie','delta','echo','foxtrot','golf','hotel','india','juliet','kilo','lima',
                   'mike','november','oscar','papa','quebec','romeo','sierra','tango','uniform','victor','whiskey','xray',
                   'yankee','zulu','amber','basalt','cobalt','denim','ember','fern','granite','harbor','indigo','jasper',
                   'keystone','lantern','meadow','nickel','orchid','pewter','quartz','russet','saffron','timber','umber','willow'] AS v) w;
EOF
}

prod_generate() {
  local ci=$1 scale=$2 which=${3:-all} b lo hi pids=() nb=8
  prod_counts "$scale"
  perf_psql -d "$ci" <<EOF
CREATE TABLE public.customers (
  id         bigint PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL,
  region     smallint NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO public.customers
SELECT g, 'customer ' || g, 'user' || g || '@example' || (g % 50) || '.com', g % 40,
       timestamptz '2019-01-01 00:00:00+00' + g * interval '61 seconds'
FROM generate_series(1::bigint, $N_CUST) g;
CREATE UNIQUE INDEX customers_email_key ON public.customers (email);
CREATE INDEX customers_region_idx ON public.customers (region);
CREATE TABLE public.docs (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id),
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  payload     jsonb NOT NULL
);
EOF
  # docs in nb batches, two sessions at a time (the md5 and jsonb building is CPU bound).
  for b in $(seq 0 $((nb - 1))); do
    lo=$((N_DOCS * b / nb + 1)); hi=$((N_DOCS * (b + 1) / nb))
    prod_docs_insert_sql "$lo" "$hi" | perf_psql -d "$ci" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || return 1; pids=("${pids[@]:1}"); fi
  done
  for b in "${pids[@]}"; do wait "$b" || return 1; done
  perf_psql -d "$ci" -c "CREATE INDEX docs_customer_id_idx ON public.docs (customer_id)" \
    -c "CREATE INDEX docs_updated_at_idx ON public.docs (updated_at)"
  if [ "$which" = all ]; then
    perf_psql -d "$ci" <<EOF
CREATE TABLE public.orders (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id),
  status      smallint NOT NULL,
  amount      numeric(12,2) NOT NULL,
  created_at  timestamptz NOT NULL,
  note        text
);
INSERT INTO public.orders
SELECT g, 1 + (g * 7919) % $N_CUST, g % 6, (g % 100000) / 100.0,
       timestamptz '2022-01-01 00:00:00+00' + g * interval '3 seconds', 'order note ' || (g % 1000)
FROM generate_series(1::bigint, $N_ORDERS) g;
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
CREATE INDEX orders_created_at_idx ON public.orders (created_at);
CREATE TABLE public.order_lines (
  order_id bigint NOT NULL REFERENCES public.orders (id),
  line     smallint NOT NULL,
  sku      text NOT NULL,
  qty      int NOT NULL,
  price    numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, line)
);
INSERT INTO public.order_lines
SELECT 1 + (g - 1) / 2 % $N_ORDERS, ((g - 1) % 2 + 1 + 2 * ((g - 1) / (2 * $N_ORDERS)))::smallint,
       'SKU-' || lpad((g % 100000)::text, 6, '0'), 1 + g % 7, (g % 50000) / 100.0
FROM generate_series(1::bigint, $N_LINES) g;
EOF
  fi
  perf_psql -d "$ci" -c "VACUUM (FREEZE, ANALYZE)"
}

# Facts about the data, for the reports: one markdown line.
prod_docs_facts() {
  perf_psql -d "$1" -Atc "SELECT format('public.docs payload (2%% sample of rows): jsonb %s-%s B (median %s), %s%% past 2 KB (the TOAST threshold); as stored: %s%% pglz-compressed, %s%% stored > 2000 B (out of line); pglz ratio of the compressed ones %sx, of all %sx',
      min(raw), max(raw), percentile_disc(0.5) WITHIN GROUP (ORDER BY raw),
      round(100.0 * count(*) FILTER (WHERE raw > 2032) / count(*)),
      round(100.0 * count(*) FILTER (WHERE comp IS NOT NULL) / count(*)),
      round(100.0 * count(*) FILTER (WHERE stored > 2000) / count(*)),
      round(sum(raw) FILTER (WHERE comp IS NOT NULL)::numeric / nullif(sum(stored) FILTER (WHERE comp IS NOT NULL), 0), 2),
      round(sum(raw)::numeric / sum(stored), 2))
    FROM (SELECT pg_column_size(payload::text::jsonb) raw, pg_column_size(payload) stored, pg_column_compression(payload) comp
          FROM public.docs TABLESAMPLE BERNOULLI (2) REPEATABLE (1)) s"
}
