from wattprint.compat import EmissionsData  # noqa: F401

TaskEmissionsData = EmissionsData  # a task's figures: the same names, with task_name
