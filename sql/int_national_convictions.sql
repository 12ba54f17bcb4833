-- int_national_convictions: the national share behind C2 for data year t: every person in
-- bef_{t+1} (all of Denmark) in the conviction age band, and those of them convicted in year t.
-- Parameters: $data_year, $params_key, $conviction_min, $conviction_max, $crime_key.
with

population as (
    select pnr from stg_bef
    where year = $data_year + 1
        and alder between $conviction_min and $conviction_max
),

convicted as (
    select pnr from int_convicted where data_year = $data_year and crime_key = $crime_key
),

final as (
    select
        cast($data_year as integer) as data_year,
        cast($params_key as varchar) as params_key,
        count(*) as persons,
        count(convicted.pnr) as convicted
    from population
    left join convicted using (pnr)
)

select * from final
