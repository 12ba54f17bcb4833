-- stg_bef: the population register bef_YYYY, one row per person living in Denmark on
-- 1 January YYYY. Renames and casts only.
-- Parameters: $source = the reader's view of the file (pipeline/readers.py: contract
-- columns under their contract names, normalised so each cast below is exact), $year.
with source as (
    select * from query_table($source)
),

final as (
    select
        cast($year as integer)          as year,
        cast(pnr as varchar)            as pnr,
        cast(koen as integer)           as koen,
        cast(alder as integer)          as alder,
        cast(ie_type as integer)        as ie_type,
        cast(opr_land as varchar)       as opr_land,
        cast(kom as integer)            as kom,
        cast(adresse_id as varchar)     as adresse_id
    from source
)

select * from final
