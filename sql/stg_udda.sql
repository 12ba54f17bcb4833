-- stg_udda: highest completed education on 1 October YYYY, one row per person.
-- Renames and casts only. Parameters: $source (the reader's view of the file), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)          as year,
        cast(pnr as varchar)            as pnr,
        cast(hfaudd as integer)         as hfaudd,
        cast(hfaudd_kilde as integer)   as hfaudd_kilde
    from source
)

select * from final
