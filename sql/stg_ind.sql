-- stg_ind: personal income for calendar year YYYY, one row per person.
-- Renames and casts only. Parameters: $source (the reader's view of the file), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)              as year,
        cast(pnr as varchar)                as pnr,
        cast(perindkialt_13 as double)      as perindkialt_13,
        cast(skattepligtig as boolean)      as skattepligtig
    from source
)

select * from final
