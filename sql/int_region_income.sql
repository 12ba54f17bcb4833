-- int_region_income: per list year and region, the C4 population of all of Denmark and the sum of
-- their incomes in øre (the region's mean income is sum / persons).
-- Parameters: $list_year, $params_key.
with

population as (
    select region, income_ore
    from int_national_population
    where list_year = $list_year and params_key = $params_key and in_income_population
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        region,
        count(*) as persons,
        cast(sum(income_ore) as hugeint) as income_sum_ore
    from population
    where region is not null
    group by region
)

select * from final
