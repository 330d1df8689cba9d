"""Report tasks: thin interfaces to reports.services.jobs."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from reports import charts
from reports.services import jobs


@worker_process_shutdown.connect
def _close_chart_browser(**kwargs):
    charts.stop_server()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def generate_report(job_id: int):
    jobs.report_job_generate(job_id=job_id)


@shared_task(ignore_result=True)
def sweep_report_jobs():
    jobs.report_jobs_sweep()
