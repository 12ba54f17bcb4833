-- stg_areas: the housing areas of the boundary version in use (boundaries/areas.csv).
-- Renames and casts only. Parameter: $source (the reader's view of the file).
with source as (
    select * from query_table($source)
),

final as (
    select
        cast(area_id as varchar)        as area_id,
        cast(area_name as varchar)      as area_name,
        cast(kom as integer)            as kom
    from source
)

select * from final
