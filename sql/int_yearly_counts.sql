-- int_yearly_counts: per data year t and area, the integer counts behind C1 (labour) and C2
-- (convictions): residents on 1 January t+1 in the age bands, those outside the labour market or
-- education in akm_t, and those with a guilty decision under a relevant law dated in year t.
-- One set of rows per parameter key (age bands and code groups of the rule set).
-- Parameters: $data_year, $params_key, $labour_min, $labour_max, $conviction_min,
-- $conviction_max, $outside_group, $crime_key (the persons of int_convicted counted).
with

residents as (
    select pnr, area_id, alder
    from int_residents
    where year = $data_year + 1
),

areas as (
    select area_id from stg_areas
),

akm as (
    select pnr, socio13 from stg_akm where year = $data_year
),

outside_codes as (
    select socio13 from ref_socio13 where grp = $outside_group
),

convicted as (
    select distinct pnr from int_convicted where data_year = $data_year and crime_key = $crime_key
),

labour as (
    select
        residents.area_id,
        count(*) as labour_pop,
        count(*) filter (where akm.socio13 in (select socio13 from outside_codes)) as labour_outside
    from residents
    left join akm using (pnr)
    where residents.alder between $labour_min and $labour_max
    group by residents.area_id
),

conviction as (
    select
        residents.area_id,
        count(*) as conviction_pop,
        count(convicted.pnr) as conviction_convicted
    from residents
    left join convicted using (pnr)
    where residents.alder between $conviction_min and $conviction_max
    group by residents.area_id
),

final as (
    select
        cast($data_year as integer) as data_year,
        cast($params_key as varchar) as params_key,
        areas.area_id,
        coalesce(labour.labour_pop, 0) as labour_pop,
        coalesce(labour.labour_outside, 0) as labour_outside,
        coalesce(conviction.conviction_pop, 0) as conviction_pop,
        coalesce(conviction.conviction_convicted, 0) as conviction_convicted
    from areas
    left join labour using (area_id)
    left join conviction using (area_id)
)

select * from final
