{#-
  Reading batchsql's tables from SQL, on any adapter. `output_table` is the spec's
  output.table ('analytics.ticket_labels', quoted part by part as batchsql creates it) or a
  relation (source(...)); `key` is the spec's source.key (a column or a list). The tables exist
  once batchsql has run the spec.
-#}

{#- One row per key: its latest succeeded outcome (the same rows as batchsql's
    <output>_current view). `columns`: the answer columns to keep (default: every column). -#}
{% macro current_results(output_table, key, columns=none) -%}
  {{ return(adapter.dispatch('current_results', 'batchsql')(output_table, key, columns)) }}
{%- endmacro %}

{% macro default__current_results(output_table, key, columns=none) -%}
  {%- set keys = batchsql._list(key) -%}
  {%- set q = adapter.quote -%}
  {%- if columns is none -%}
    {%- set selected = 'o.*' -%}
  {%- else -%}
    {%- set names = [] -%}
    {%- for c in keys + batchsql._list(columns) -%}{%- do names.append('o.' ~ q(c)) -%}{%- endfor -%}
    {%- set selected = names | join(', ') -%}
  {%- endif -%}
select {{ selected }}
from {{ batchsql._table(output_table) }} as o
where o.{{ q('_status') }} = 'succeeded'
  and not exists (
    select 1 from {{ batchsql._table(output_table) }} as n
    where n.{{ q('_status') }} = 'succeeded'
      {%- for k in keys %}
      and n.{{ q(k) }} = o.{{ q(k) }}
      {%- endfor %}
      and (n.{{ q('_collected_at') }} > o.{{ q('_collected_at') }}
           or (n.{{ q('_collected_at') }} = o.{{ q('_collected_at') }}
               and coalesce(n.{{ q('_custom_id') }}, '') > coalesce(o.{{ q('_custom_id') }}, '')))
  )
{%- endmacro %}

{#- Rows of `source` (a relation or a query in parentheses) that batchsql would still send,
    judged by key: no succeeded outcome yet, not in a batch in flight, fewer failures than
    max_attempts. A changed prompt makes rows pending again only in batchsql's own eyes (it
    fingerprints every rendered request); `batchsql plan` gives the exact count. -#}
{% macro pending_rows(source, output_table, key, max_attempts=3) -%}
  {{ return(adapter.dispatch('pending_rows', 'batchsql')(source, output_table, key,
                                                         max_attempts)) }}
{%- endmacro %}

{% macro default__pending_rows(source, output_table, key, max_attempts=3) -%}
  {%- set keys = batchsql._list(key) -%}
  {%- set q = adapter.quote -%}
  {%- set name = batchsql._parts(output_table)[-1] -%}
select s.*
from {{ source }} as s
where not exists (
    select 1 from {{ batchsql._table(output_table) }} as o
    where o.{{ q('_status') }} = 'succeeded'
      {%- for k in keys %} and o.{{ q(k) }} = s.{{ q(k) }}{% endfor %}
  )
  and not exists (
    select 1
    from {{ batchsql._table(output_table, '_batchsql_' ~ name ~ '_requests') }} as r
    join {{ batchsql._table(output_table, '_batchsql_batches') }} as b
      on b.{{ q('batch_uuid') }} = r.{{ q('_batch_uuid') }}
    where b.{{ q('status') }} in ('intent', 'submitted')
      {%- for k in keys %} and r.{{ q(k) }} = s.{{ q(k) }}{% endfor %}
  )
  and (
    select count(*) from {{ batchsql._table(output_table) }} as f
    where f.{{ q('_status') }} in ('failed', 'invalid_output', 'missing')
      {%- for k in keys %} and f.{{ q(k) }} = s.{{ q(k) }}{% endfor %}
  ) < {{ max_attempts }}
{%- endmacro %}

{#- A key or column argument as a list. -#}
{% macro _list(value) -%}
  {{ return([value] if value is string else value | list) }}
{%- endmacro %}

{#- The parts of a table name or relation: [database,] [schema,] name. -#}
{% macro _parts(table) -%}
  {%- if table is string -%}{{ return(table.split('.')) }}{%- endif -%}
  {{ return([table.database, table.schema, table.identifier] | reject('none') | list) }}
{%- endmacro %}

{#- A table (or a sibling of it, `name` in the same schema), quoted part by part. -#}
{% macro _table(table, name=none) -%}
  {%- set parts = batchsql._parts(table) -%}
  {%- if name is not none -%}{%- set parts = parts[:-1] + [name] -%}{%- endif -%}
  {%- set quoted = [] -%}
  {%- for p in parts -%}{%- do quoted.append(adapter.quote(p)) -%}{%- endfor -%}
  {{ return(quoted | join('.')) }}
{%- endmacro %}
