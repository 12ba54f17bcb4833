-- stg_parcels: area -> cadastral parcels of the boundary version in use (boundaries/parcels.csv).
-- Renames and casts only. Parameter: $source (the reader's view of the file).
with source as (
    select * from query_table($source)
),

final as (
    select
        cast(area_id as varchar)        as area_id,
        cast(ejerlavskode as integer)   as ejerlavskode,
        cast(matrikelnr as varchar)     as matrikelnr
    from source
)

select * from final
