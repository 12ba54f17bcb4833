-- stg_kraf: criminal decisions dated in calendar year YYYY (several rows per person possible).
-- Renames and casts only. Parameters: $source (the reader's view of the file), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)          as year,
        cast(pnr as varchar)            as pnr,
        cast(afg_dato as date)          as afg_dato,
        cast(afg_ger7 as varchar)       as afg_ger7,
        cast(afg_afgtyp as integer)     as afg_afgtyp
    from source
)

select * from final
