-- mart_areas: the published table of a list year (the columns of areas.csv, in order), after the
-- history step (years on the parallel list, transformation, development plan).
-- Source: the frame registered as __areas by pipeline.calculate.apply_history.
with

areas as (
    select * from __areas
),

final as (
    select * from areas
    order by area_id
)

select * from final
