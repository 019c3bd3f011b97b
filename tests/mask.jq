# An event of kafkatee-pipe made comparable with tests/envelope.jq's:
# meta.id and meta.dt masked, and the run's name once it has the form
# kafkatee-pipe(1) gives it (a name of another form stays, and differs).
.meta.id = "ID" | .meta.dt = "DT"
| if has("sequence_run")
     and (.sequence_run | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"))
  then .sequence_run = "RUN" else . end
