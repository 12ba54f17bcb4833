-- stg_history: official list membership for list years not recomputed (history/lists.csv).
-- Renames and casts only. Parameter: $source (the reader's view of the file).
with source as (
    select * from query_table($source)
),

final as (
    select
        cast(area_id as varchar)        as area_id,
        cast(list_year as integer)      as list_year,
        cast(list as varchar)           as list
    from source
)

select * from final
