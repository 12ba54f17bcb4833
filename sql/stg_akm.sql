-- stg_akm: labour-market status (SOCIO13) for calendar year YYYY, one row per person.
-- Renames and casts only. Parameters: $source (the reader's view of the file), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)          as year,
        cast(pnr as varchar)            as pnr,
        cast(socio13 as integer)        as socio13
    from source
)

select * from final
