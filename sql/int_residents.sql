-- int_residents: the persons living in a housing area on 1 January $year.
-- A person is a resident of area A when the address on that date (bef.adresse_id) lies, by the
-- address table of the same date, on a parcel of A (METHOD.md § 2). Null addresses match nothing.
-- Parameters: $year.
with

bef as (
    select pnr, alder, ie_type, opr_land, kom, adresse_id
    from stg_bef
    where year = $year
),

adresser as (
    select adresse_id, ejerlavskode, matrikelnr
    from stg_adresser
    where year = $year
),

parcels as (
    select area_id, ejerlavskode, matrikelnr
    from stg_parcels
),

-- The addresses that lie in an area: a few percent of all addresses. Materialised first, so the
-- population (millions of rows) is probed against this small table once (left to the
-- optimiser, the population was joined with every address before the parcels were applied).
addresses_in_areas as materialized (
    select
        adresser.adresse_id,
        parcels.area_id
    from adresser
    inner join parcels
        on parcels.ejerlavskode = adresser.ejerlavskode
        and parcels.matrikelnr = adresser.matrikelnr
),

located as (
    select
        bef.pnr,
        addresses_in_areas.area_id,
        bef.alder,
        bef.ie_type,
        bef.opr_land,
        bef.kom
    from bef
    inner join addresses_in_areas on addresses_in_areas.adresse_id = bef.adresse_id
),

final as (
    select cast($year as integer) as year, *
    from located
)

select * from final
