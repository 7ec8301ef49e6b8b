{#-
  Running batchsql from dbt. On DuckDB a model's pre-hook runs it inside the dbt process,
  through the batchsql.dbt plugin declared in profiles.yml:

    {{ config(pre_hook=[before_begin(batchsql.run('ai/ticket_labels.yml'))]) }}

  Spec paths are relative to the dbt project folder. Other adapters' hooks can only run SQL, so
  there batchsql runs beside dbt (`batchsql run ai/ticket_labels.yml --no-wait && dbt build`).
  `--vars '{batchsql_skip_hooks: true}'` turns every batchsql.run hook into a no-op on any
  adapter (e.g. a target where batchsql runs beside dbt).
-#}

{#- The hook text for a model's config. `wait`: none (submit and return), true (also wait for
    the results, up to the plugin's max_wait), or a number of seconds to wait at most. -#}
{% macro run(spec, wait=none) -%}
  {{ return(adapter.dispatch('run', 'batchsql')(spec, wait)) }}
{%- endmacro %}

{% macro default__run(spec, wait=none) -%}
  {%- if var('batchsql_skip_hooks', false) -%}{{ return('') }}{%- endif -%}
  {{ exceptions.raise_compiler_error(
      "batchsql.run('" ~ spec ~ "'): hooks on " ~ adapter.type() ~ " can only run SQL, and "
      ~ "batchsql needs Python, so it cannot run inside dbt here. Run it beside dbt instead: "
      ~ "`batchsql run " ~ spec ~ " --no-wait && dbt build` (or `batchsql dbt --spec " ~ spec
      ~ " -- build`), read its results with batchsql.current_results(...), and remove this "
      ~ "hook or set the var batchsql_skip_hooks: true for this target.") }}
{%- endmacro %}

{% macro duckdb__run(spec, wait=none) -%}
  {%- if var('batchsql_skip_hooks', false) -%}{{ return('') }}{%- endif -%}
  {#- Config is read when dbt parses the model; the hook text is rendered again when the hook
      runs, so the call below happens then, and its line shows in dbt's output. -#}
  {{ return("{{ batchsql.run_spec(" ~ tojson(spec) ~ ", " ~ tojson(batchsql._mode(wait)) ~ ") }}") }}
{%- endmacro %}

{#- Runs a spec now and logs what it did; renders nothing (an empty hook is skipped).
    Also for `dbt run-operation batchsql.run_spec --args '{spec: ai/ticket_labels.yml}'`. -#}
{% macro run_spec(spec, wait=none) -%}
  {{ return(adapter.dispatch('run_spec', 'batchsql')(spec, wait)) }}
{%- endmacro %}

{% macro default__run_spec(spec, wait=none) -%}
  {{ return(batchsql.default__run(spec, wait)) }}
{%- endmacro %}

{% macro duckdb__run_spec(spec, wait=none) -%}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set mode = wait if wait is string else batchsql._mode(wait) -%}
  {%- set line = batchsql._call('batchsql_run', [spec, mode]) -%}
  {{ log('batchsql: ' ~ line, info=True) }}
  {{ return('') }}
{%- endmacro %}

{#- Logs a spec's outcomes so far, batches in flight and cost:
    `dbt run-operation batchsql.status --args '{spec: ai/ticket_labels.yml}'`. -#}
{% macro status(spec) -%}
  {{ return(adapter.dispatch('status', 'batchsql')(spec)) }}
{%- endmacro %}

{% macro default__status(spec) -%}
  {{ exceptions.raise_compiler_error(
      "batchsql.status: on " ~ adapter.type() ~ " run `batchsql status " ~ spec ~ "` instead") }}
{%- endmacro %}

{% macro duckdb__status(spec) -%}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set line = batchsql._call('batchsql_status', [spec]) -%}
  {{ log('batchsql: ' ~ line, info=True) }}
  {{ return(line) }}
{%- endmacro %}

{#- The mode argument of batchsql_run() for a `wait` argument. -#}
{% macro _mode(wait) -%}
  {%- if wait is none or wait is false -%}{{ return('submit') }}
  {%- elif wait is true -%}{{ return('wait') }}
  {%- elif wait is number and wait > 0 -%}{{ return('wait:' ~ wait) }}
  {%- else -%}
    {{ exceptions.raise_compiler_error("batchsql: wait must be true, false or a number of "
                                       ~ "seconds, got " ~ wait) }}
  {%- endif -%}
{%- endmacro %}

{#- Calls one of the plugin's functions with text arguments and returns its one line. -#}
{% macro _call(function, args) -%}
  {%- set found = run_query("select count(*) from duckdb_functions() where function_name = '"
                            ~ function ~ "'") -%}
  {%- if found.columns[0].values()[0] == 0 -%}
    {{ exceptions.raise_compiler_error(
        "batchsql: the function " ~ function ~ "() is missing: declare batchsql's plugin in "
        ~ "this target of profiles.yml (plugins: [{module: batchsql.dbt}]) and install "
        ~ "batchsql in dbt's Python environment (pip install 'batchsql[dbt]')") }}
  {%- endif -%}
  {%- set quoted = [] -%}
  {%- for arg in args -%}{%- do quoted.append("'" ~ (arg | replace("'", "''")) ~ "'") -%}{%- endfor -%}
  {%- set result = run_query("select " ~ function ~ "(" ~ quoted | join(", ") ~ ")") -%}
  {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}
