from django import template

from actions.selectors import overdue_objectives as overdue_objectives_for

register = template.Library()


@register.inclusion_tag("actions/_overdue_objectives.html")
def overdue_objectives(account):
    """The account's plan objectives past their target date, for the account page."""
    return {"account": account, "objectives": overdue_objectives_for(account=account)}
