-- stg_adresser: address -> cadastral parcel on 1 January YYYY, one row per address.
-- Renames and casts only. Parameters: $source (the reader's view of the file), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)          as year,
        cast(adresse_id as varchar)     as adresse_id,
        cast(kom as integer)            as kom,
        cast(ejerlavskode as integer)   as ejerlavskode,
        cast(matrikelnr as varchar)     as matrikelnr
    from source
)

select * from final
