Feature: Additional utilities
  As a FiftyOne user with annotation runs in CVAT
  I want the CVAT API helpers of FiftyOne's CVAT guide ("Additional utilities") under annoflow's name
  So that its examples run as written, with annoflow in place of fiftyone

  Background:
    Given a CVAT server with the users "user1", "user2" and "user3", my login in the environment
    And the zoo's quickstart dataset in my data dir

  Scenario: Using the CVAT API
    When I run the guide's example
      """
      import annoflow as fo
      import annoflow.zoo as foz
      import annoflow.utils.annotations as foua

      dataset = foz.load_zoo_dataset("quickstart")
      view = dataset.take(1)

      anno_key = "cvat_api"

      view.annotate(anno_key, label_field="ground_truth")

      api = foua.connect_to_api()

      # The context manager is optional and simply ensures that TCP connections
      # are always closed
      with api:
          # Launch CVAT in your browser
          api.launch_editor(api.base_url)

          # Get info about all tasks currently on the CVAT server
          response = api.get(api.tasks_url).json()
      """
    Then the browser opened the server's address
    And the example's "response" lists the run "cvat_api"'s task
    And the example's API is closed

  Scenario: Viewing task statuses
    When I run the guide's example
      """
      import annoflow as fo
      import annoflow.zoo as foz

      dataset = foz.load_zoo_dataset("quickstart")
      view = dataset.take(3)

      anno_key = "cvat_status"

      view.annotate(
          anno_key,
          label_field="ground_truth",
          segment_size=2,
          task_assignee="user1",
          job_assignees=["user1"],
          job_reviewers=["user2", "user3"],
      )

      results = dataset.load_annotation_results(anno_key)
      results.print_status()

      results.cleanup()
      dataset.delete_annotation_run(anno_key)
      """
    Then the example printed "Status for label field 'ground_truth':"
    And the example printed the task, assigned to "user1", and its 2 jobs, each assigned to "user1"
    And the server holds no task

  Scenario: Viewing task statuses of many runs over one API (the pro tip)
    Given the runs "first" and "second" of the quickstart dataset in CVAT
    When I run the guide's example
      """
      import annoflow as fo
      import annoflow.zoo as foz
      import annoflow.utils.annotations as foua

      dataset = foz.load_zoo_dataset("quickstart")

      api = foua.connect_to_api()

      for anno_key in dataset.list_annotation_runs():
          results = dataset.load_annotation_results(anno_key)
          results.use_api(api)
          results.print_status()
      """
    Then the example printed the status of the runs "first" and "second"
    And the server saw one login

  Scenario: Deleting tasks
    Given the server's next task is 372
    When I run the guide's example
      """
      import annoflow as fo
      import annoflow.zoo as foz

      dataset = foz.load_zoo_dataset("quickstart")
      view = dataset.take(1)

      anno_key = "cvat_delete_tasks"

      view.annotate(anno_key, label_field="ground_truth")

      results = dataset.load_annotation_results(anno_key)
      api = results.connect_to_api()

      print(results.task_ids)
      # [372]

      api.delete_task(372)
      """
    Then the example printed "[372]"
    And the server holds no task
    And the example's "api" is a CVATAnnotationAPI

  Scenario: The API's helpers on a run's project
    Given the run "helpers" of the quickstart dataset in CVAT, in the project "helpers_project"
    When I run the example
      """
      import annoflow as fo

      dataset = fo.load_dataset("quickstart")
      results = dataset.load_annotation_results("helpers")

      with results.connect_to_api() as api:
          project_id = api.get_project_id("helpers_project")
          assert api.get_project_ids(["helpers_project", "no such project"]) == [project_id]
          assert api.project_exists(project_id) and not api.project_exists(project_id + 1000)
          task_id = results.task_ids[0]
          assert api.task_exists(task_id) and api.get_project_tasks(project_id) == [task_id]
          assert api.get_user_id("user2") > 0
          car = api.get_label_id("car", task_id=task_id)
          attributes = api.get_attr_id_map(task_id=task_id)
          files = api.download_media(task_id, "downloads")
          annotations = api.get(api.task_annotation_url(task_id)).json()
          stored = api.upload_annotations(task_id, {"shapes": annotations["shapes"][:1]})
          api.delete_tasks([task_id])
          api.delete_projects([project_id])
          gone = not api.task_exists(task_id) and not api.project_exists(project_id)
      """
    Then the example's "car" is the id of the task's label "car"
    And the example's "attributes" give each label's "label_id" attribute its id
    And the example's "files" are the task's images, byte for byte, in "downloads"
    And the example's "stored" holds one shape
    And the example's "gone" is true
