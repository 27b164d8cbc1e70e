-- The admin API's view of one user ($1), soft-deleted or not, locked when $2 (an update or a
-- delete follows).
SELECT {{user_object}} || jsonb_build_object('deleted', u.deleted_at IS NOT NULL)
  FROM auth.users u WHERE u.id = $1
