-- mart_classification: per list year and area, the criteria and lists decided in Python
-- (pipeline.criteria, exact fractions) before the history step, with the boundary version and
-- rule-set fingerprint they were computed with (earlier years are reused only when both match).
-- Source: the frame registered as __classification by pipeline.calculate.classify_year.
with

classification as (
    select * from __classification
),

final as (
    select * from classification
    order by area_id
)

select * from final
